import { toDictionary, toUnsignedShort, toUsvString } from './webidl-conversions.js';

/** The `WebSocketCloseInfo` dictionary: `[EnforceRange] unsigned short closeCode; USVString reason = ""`. */
export interface WebSocketCloseInfo {
  readonly closeCode?: number;
  readonly reason?: string;
}

/** Converts a `WebSocketCloseInfo` argument (members in lexicographic order: closeCode, reason). */
export function toCloseInfo(value: unknown, context: string): { closeCode: number | undefined; reason: string } {
  const dictionary = toDictionary(value, context);
  const closeCode = dictionary['closeCode'];
  const closeCodeValue = closeCode === undefined ? undefined : toUnsignedShort(closeCode, `${context}.closeCode`, { enforceRange: true });
  const reason = dictionary['reason'];
  return { closeCode: closeCodeValue, reason: reason === undefined ? '' : toUsvString(reason) };
}
