import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMiniKafkaError } from '../../common/errors.ts';
import type { MiniKafkaError } from '../../common/errors.ts';
import { MAX_TOPIC_NAME_LENGTH, collidesWith, hasCollisionChars, isValidTopicName, validateTopicName } from '../../common/topic-name.ts';

function rejection(name: string): MiniKafkaError {
  try {
    validateTopicName(name);
  } catch (error) {
    if (isMiniKafkaError(error, 'INVALID_TOPIC_EXCEPTION')) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(name)} to be rejected`);
}

/** Kafka's rule written out directly, as the oracle for the property tests. */
function isLegalByKafkasRule(name: string): boolean {
  return /^[a-zA-Z0-9._-]{1,249}$/.test(name) && name !== '.' && name !== '..';
}

/** Characters a path attack or an encoding trick would use, mixed with legal ones. */
const trickyChar = fc.constantFrom('a', 'Z', '0', '.', '_', '-', '/', '\\', '\0', ':', ' ', '%', '~', '\n', 'é', 'ａ', '\u200b', '\u2024', '\ud800', '😀');

describe('validateTopicName', () => {
  it('validateTopicName() accepts names of 1 to 249 legal characters', () => {
    for (const name of ['a', 'orders', 'Orders.EU_2024-q1', '__consumer_offsets', '...', '-', '_', '.a', 'a..b', 'x'.repeat(MAX_TOPIC_NAME_LENGTH)]) {
      expect(() => validateTopicName(name), name).not.toThrow();
      expect(isValidTopicName(name)).toBe(true);
    }
  });

  it('validateTopicName() rejects the empty name and says so', () => {
    const error = rejection('');
    expect(error.message).toMatch(/cannot be empty/);
    expect(error.kafkaCode).toBe(17);
  });

  it('validateTopicName() rejects "." and ".." because they name the data directory or its parent', () => {
    expect(rejection('.').message).toMatch(/cannot be "\." or "\.\."/);
    expect(rejection('..').message).toMatch(/cannot be "\." or "\.\."/);
  });

  it('validateTopicName() rejects 250 characters and reports the length', () => {
    const error = rejection('a'.repeat(250));
    expect(error.message).toMatch(/at most 249 characters; this one has 250/);
    expect(error.message.length).toBeLessThan(300);
  });

  it('validateTopicName() lists each illegal character once, showing invisible ones as code points', () => {
    expect(rejection('a/b/c').message).toMatch(/contains "\/"\.$/);
    expect(rejection('../../etc/passwd').message).toMatch(/contains "\/"\.$/);
    expect(rejection('a b\\c').message).toMatch(/contains " ", "\\\\"\.$/);
    expect(rejection('a\0b').message).toMatch(/contains U\+0000\.$/);
    expect(rejection('pay\u200bments').message).toMatch(/contains U\+200B\.$/);
    expect(rejection('café').message).toMatch(/contains U\+00E9\.$/);
    expect(rejection('😀').message).toMatch(/contains U\+1F600\.$/);
  });

  it('validateTopicName() keeps its message short when given a huge hostile name', () => {
    const huge = '/'.repeat(1_000_000);
    const error = rejection(huge);
    expect(error.message).toMatch(/1000000/);
    expect(error.message.length).toBeLessThan(400);
  });

  it('validateTopicName() rejects path tricks, unicode look-alikes and control characters', () => {
    const hostile = ['../x', 'x/..', '/etc', 'C:\\x', 'a\\..\\b', 'nul\0', '%2e%2e', '\u2024\u2024', 'ｏｒｄｅｒｓ', 'o\u0308', 'tab\there', 'new\nline', ' lead', 'trail ', 'a'.repeat(250), '.'.repeat(250)];
    for (const name of hostile) expect(isValidTopicName(name), JSON.stringify(name)).toBe(false);
    for (const name of hostile) expect(() => validateTopicName(name)).toThrow(/Invalid topic name/);
  });

  it("validateTopicName() agrees with Kafka's rule on arbitrary strings", () => {
    const names = fc.oneof(fc.string({ unit: trickyChar, maxLength: 260 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ maxLength: 300 }));
    fc.assert(fc.property(names, (name) => {
      const isAccepted = isValidTopicName(name);
      expect(isAccepted).toBe(isLegalByKafkasRule(name));
      if (isAccepted) expect(() => validateTopicName(name)).not.toThrow();
      else expect(() => validateTopicName(name)).toThrow(/Invalid topic name/);
    }), { numRuns: 2000 });
  });

  it('every accepted name is one safe path component, alone and as <topic>-<partition>', () => {
    const root = path.resolve('/srv/minikafka-data');
    const names = fc.oneof(fc.string({ unit: trickyChar, minLength: 1, maxLength: 260 }), fc.string({ unit: fc.constantFrom('.', '-', '_', 'a'), minLength: 1, maxLength: 6 }));
    let acceptedCount = 0;
    fc.assert(fc.property(names, fc.nat(1000), (name, partition) => {
      if (!isValidTopicName(name)) return;
      acceptedCount++;
      expect(name).not.toMatch(/[/\\\0]/);
      expect(name === '.' || name === '..').toBe(false);
      for (const component of [name, `${name}-${partition}`]) {
        const resolved = path.resolve(root, component);
        expect(path.dirname(resolved)).toBe(root);
        expect(path.basename(resolved)).toBe(component);
        expect(path.win32.basename(component)).toBe(component);
      }
    }), { numRuns: 3000 });
    // Guards the property against passing vacuously should the generators stop producing legal names.
    expect(acceptedCount).toBeGreaterThan(500);
  });
});

describe('collidesWith', () => {
  it("collidesWith() finds existing names that differ only by '.' versus '_'", () => {
    expect(collidesWith('orders.eu', ['orders_eu', 'orders-eu', 'orders.eu', 'orders_us'])).toEqual(['orders_eu']);
    expect(collidesWith('a_b.c', ['a.b_c', 'a.b.c', 'a_b_c'])).toEqual(['a.b_c', 'a.b.c', 'a_b_c']);
  });

  it('collidesWith() finds nothing for a name without . or _', () => {
    expect(hasCollisionChars('orders-eu')).toBe(false);
    expect(collidesWith('orders-eu', ['orders-eu', 'orders_eu'])).toEqual([]);
  });
});
