import { describe, expect, it } from 'vitest';
import { calls, isCallName, RequestSchema } from '../../../preload/contract';

describe('contract schemas', () => {
  it('accepts good payloads', () => {
    expect(calls['app.health'].input.safeParse({}).success).toBe(true);
    expect(
      calls['packs.import'].input.safeParse({ from: '/tmp/pack', jobId: 'import-1' }).success,
    ).toBe(true);
    expect(calls['jobs.cancel'].input.safeParse({ jobId: 'a.b:c-d_e' }).success).toBe(true);
  });

  it('rejects wrong types and missing fields', () => {
    expect(calls['packs.import'].input.safeParse({ from: 42 }).success).toBe(false);
    expect(calls['packs.import'].input.safeParse({}).success).toBe(false);
    expect(calls['jobs.cancel'].input.safeParse({ jobId: null }).success).toBe(false);
    expect(calls['app.health'].input.safeParse(null).success).toBe(false);
    expect(calls['app.health'].input.safeParse('{}').success).toBe(false);
  });

  it('rejects huge strings', () => {
    expect(calls['packs.import'].input.safeParse({ from: 'x'.repeat(5000) }).success).toBe(false);
    expect(calls['packs.remove'].input.safeParse({ id: 'a'.repeat(129) }).success).toBe(false);
  });

  it('rejects odd identifiers and NUL in paths', () => {
    expect(calls['packs.remove'].input.safeParse({ id: '../etc' }).success).toBe(false);
    expect(calls['packs.remove'].input.safeParse({ id: '' }).success).toBe(false);
    expect(calls['packs.import'].input.safeParse({ from: '/tmp/a\0b' }).success).toBe(false);
  });

  it('rejects prototype-pollution keys and unknown keys', () => {
    const polluted = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    expect(calls['app.health'].input.safeParse(polluted).success).toBe(false);
    const ctor = JSON.parse('{"jobId": "a", "constructor": {"prototype": {"x": 1}}}') as unknown;
    expect(calls['jobs.cancel'].input.safeParse(ctor).success).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('knows its call names and nothing inherited', () => {
    expect(isCallName('app.health')).toBe(true);
    expect(isCallName('toString')).toBe(false);
    expect(isCallName('__proto__')).toBe(false);
    expect(isCallName(7)).toBe(false);
  });

  it('checks the wire envelope', () => {
    expect(
      RequestSchema.safeParse({ type: 'call', id: 1, call: 'app.health', input: {} }).success,
    ).toBe(true);
    expect(RequestSchema.safeParse({ type: 'call', id: -1, call: 'app.health' }).success).toBe(
      false,
    );
    expect(RequestSchema.safeParse({ type: 'call', id: 1.5, call: 'app.health' }).success).toBe(
      false,
    );
    expect(RequestSchema.safeParse({ type: 'call', id: 1, call: 'x'.repeat(500) }).success).toBe(
      false,
    );
    expect(RequestSchema.safeParse({ type: 'call', id: 1, call: 'a', extra: 1 }).success).toBe(
      false,
    );
  });
});
