import { describe, expect, it } from 'vitest';
import type { CaseResult } from '@ws/testkit';
import { conformanceFailure } from '@ws/testkit/vitest';

const result = (outcome: CaseResult['outcome']): CaseResult => ({
  id: '6.4.1',
  section: 6,
  description: 'fail fast',
  rfc: 'RFC 6455 §8.1: "…"',
  outcome,
  reason: 'noticed late',
  durationMs: 1,
  notes: [],
  transcript: [{ kind: 'received', at: 1, bytes: Buffer.from([0x88, 0x02, 0x03, 0xef]), length: 4 }],
});

describe('conformanceFailure', () => {
  it('fails a failed case, with the reason, the RFC sentence and the transcript', () => {
    const message = conformanceFailure(result('fail'));
    expect(message).toMatch(/^6\.4\.1 fail \(expected pass or non-strict or informational\): noticed late/);
    expect(message).toContain('RFC 6455 §8.1');
    expect(message).toContain('88 02 03 ef');
  });

  it('lets non-strict outcomes through unless strict', () => {
    expect(conformanceFailure(result('non-strict'))).toBeUndefined();
    expect(conformanceFailure(result('informational'), { strict: true })).toBeUndefined();
    expect(conformanceFailure(result('non-strict'), { strict: true })).toMatch(/expected pass or informational/);
  });

  it('never fails a case that does not apply to the transport', () => {
    expect(conformanceFailure(result('not-applicable'), { strict: true })).toBeUndefined();
  });

  it('holds a case with a known outcome to exactly that outcome', () => {
    expect(conformanceFailure(result('non-strict'), { expect: { '6.4.*': 'non-strict' } })).toBeUndefined();
    expect(conformanceFailure(result('pass'), { expect: { '6.4.*': 'non-strict' } })).toMatch(/6\.4\.1 pass \(expected non-strict\)/);
    expect(conformanceFailure(result('pass'), { expect: { '7.*': 'non-strict' } })).toBeUndefined();
  });
});
