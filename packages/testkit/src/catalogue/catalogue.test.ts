import { type Buffer, isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { catalogue, matchesCasePattern, selectCases } from './catalogue.js';
import { SECTION_TITLES, compareCaseIds } from './conformance-case.js';
import { UTF8_SEQUENCES } from './section-6-utf8.js';

const countBySection = (cases: readonly { section: number }[]) =>
  Object.fromEntries(Object.keys(SECTION_TITLES).map((section) => [section, cases.filter((item) => item.section === Number(section)).length]));

describe('catalogue', () => {
  it('has the Autobahn sections with their case counts', () => {
    expect(countBySection(catalogue)).toEqual({ 1: 16, 2: 11, 3: 7, 4: 10, 5: 20, 6: 145, 7: 41, 9: 54, 10: 16, 12: 50, 13: 100 });
  });

  it('has at least 250 cases for each kind of target without the slow section', () => {
    expect(selectCases(catalogue, { targetKind: 'server' })).toHaveLength(260);
    expect(selectCases(catalogue, { targetKind: 'client' })).toHaveLength(261);
  });

  it('gives every case a unique id in its section, a description and a quoted RFC sentence', () => {
    expect(new Set(catalogue.map((item) => item.id)).size).toBe(catalogue.length);
    for (const item of catalogue) {
      expect(item.id.startsWith(`${item.section}.`), item.id).toBe(true);
      expect(item.description.length, item.id).toBeGreaterThan(20);
      expect(item.rfc, item.id).toMatch(/(RFC (6455|7692) §[\d.]+|IANA).*"/);
    }
  });

  it('is sorted numerically by id', () => {
    const ids = catalogue.map((item) => item.id);
    expect([...ids].sort(compareCaseIds)).toEqual(ids);
    expect(ids.indexOf('1.1.8')).toBeLessThan(ids.indexOf('1.2.1'));
    expect(ids.indexOf('2.9')).toBeLessThan(ids.indexOf('2.10'));
  });

  it('marks exactly sections 12 and 13 as needing permessage-deflate', () => {
    expect(catalogue.filter((item) => item.deflate === true).map((item) => item.section)).toEqual([
      ...Array<number>(50).fill(12),
      ...Array<number>(100).fill(13),
    ]);
  });

  it('marks exactly section 9 as slow', () => {
    expect(catalogue.filter((item) => item.slow === true).every((item) => item.section === 9)).toBe(true);
    expect(catalogue.filter((item) => item.section === 9).every((item) => item.slow === true)).toBe(true);
  });

  it('agrees with two independent UTF-8 validators on every test sequence of 6.5-6.23', () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const decodes = (bytes: Buffer) => {
      try {
        fatal.decode(bytes);
        return true;
      } catch {
        return false;
      }
    };
    expect(UTF8_SEQUENCES).toHaveLength(132);
    for (const { id, bytes, valid } of UTF8_SEQUENCES) {
      expect(isUtf8(bytes), id).toBe(valid);
      expect(decodes(bytes), id).toBe(valid);
    }
    expect(UTF8_SEQUENCES.filter((sequence) => sequence.valid)).toHaveLength(63);
  });
});

describe('selectCases', () => {
  const ids = (cases: string | readonly string[], slow = false) => selectCases(catalogue, { cases, slow }).map((item) => item.id);

  it('selects by glob, by section and by group, and excludes with "!"', () => {
    expect(ids('2.*')).toEqual(['2.1', '2.2', '2.3', '2.4', '2.5', '2.6', '2.7', '2.8', '2.9', '2.10', '2.11']);
    expect(ids('3')).toHaveLength(7);
    expect(ids('6.4')).toEqual(['6.4.1', '6.4.2', '6.4.3', '6.4.4']);
    expect(ids('6.4.*,!6.4.2')).toEqual(['6.4.1', '6.4.3', '6.4.4']);
    expect(ids(['1.1.1', ' 7.7.1 '])).toEqual(['1.1.1', '7.7.1']);
    expect(ids('5.1')).toEqual(['5.1']);
  });

  it('leaves section 9 out unless asked for by flag or by name', () => {
    expect(ids('*').some((id) => id.startsWith('9.'))).toBe(false);
    expect(ids('*', true).filter((id) => id.startsWith('9.'))).toHaveLength(54);
    expect(ids('9.1.*')).toHaveLength(6);
  });

  it('leaves sections 12 and 13 out unless asked for by flag or by name', () => {
    expect(ids('*').some((id) => /^1[23]\./.test(id))).toBe(false);
    expect(selectCases(catalogue, { deflate: true }).filter((item) => item.section >= 12)).toHaveLength(150);
    expect(ids('12.*')).toHaveLength(50);
    expect(ids('13.2')).toHaveLength(10);
    expect(ids('12.*,13.*,!13.10.*')).toHaveLength(140);
    expect(selectCases(catalogue, { cases: '13.*', targetKind: 'client' })).toHaveLength(90);
  });

  it('keeps the cases that apply to the target kind', () => {
    expect(selectCases(catalogue, { cases: '10.5.*,10.6.*', targetKind: 'server' }).map((item) => item.id)).toEqual([
      '10.5.1',
      '10.5.2',
      '10.5.3',
      '10.5.4',
      '10.5.5',
    ]);
    expect(selectCases(catalogue, { cases: '10.5.*,10.6.*', targetKind: 'client' })).toHaveLength(6);
  });

  it('matches single patterns', () => {
    expect(matchesCasePattern('6.4.1', '6.*')).toBe(true);
    expect(matchesCasePattern('6.4.1', '6.4')).toBe(true);
    expect(matchesCasePattern('6.41.1', '6.4')).toBe(false);
    expect(matchesCasePattern('1.1.1', '1.1.?')).toBe(true);
  });
});
