import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brokerConfigDefinitions, topicConfigDefinitions } from '../../../broker/config/config-definitions.ts';
import type { ConfigValidator } from '../../../broker/config/config-definitions.ts';
import { formatConfigValue } from '../../../broker/config/config-value.ts';

const docs = fs.readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

/** The rows of the first table under `## heading`, each as its cells, keyed by the name in the first cell. */
function tableUnder(heading: string): Map<string, string[]> {
  const start = docs.indexOf(`\n## ${heading}\n`);
  expect(start, `docs/configuration.md has a "## ${heading}" section`).toBeGreaterThanOrEqual(0);
  const end = docs.indexOf('\n## ', start + 1);
  const section = docs.slice(start, end === -1 ? undefined : end);
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const match = /^\| `([^`]+)` \|(.*)\|$/.exec(line);
    if (match === null) continue;
    expect(rows.has(match[1]), `${match[1]} is listed once under ${heading}`).toBe(false);
    rows.set(match[1], match[2].split('|').map((cell) => cell.trim()));
  }
  return rows;
}

/** The valid-values cell must state the catalogue's range or choices. */
function expectAllowedValuesIn(cell: string, validator: ConfigValidator, name: string): void {
  if (validator.kind === 'range') {
    const stated = validator.min === validator.max ? `\`${validator.min}\`` : `[${validator.min}, ${validator.max}]`;
    expect(cell, name).toContain(stated);
  }
  if (validator.kind === 'oneOf') for (const value of validator.values) expect(cell, name).toContain(`\`${value}\``);
  if (validator.kind === 'list' && validator.items !== undefined) for (const item of validator.items) expect(cell, name).toContain(item);
}

const brokerOnly = [...brokerConfigDefinitions.values()].filter((definition) => definition.synonymOf === null);
const synonyms = [...brokerConfigDefinitions.values()].filter((definition) => definition.synonymOf !== null);
const topics = [...topicConfigDefinitions.values()];

describe('docs/configuration.md', () => {
  it('lists exactly the broker-only configs of the catalogue, with their defaults and ranges', () => {
    const rows = tableUnder('Broker configs');
    expect([...rows.keys()].sort()).toEqual(brokerOnly.map((definition) => definition.name).sort());
    for (const definition of brokerOnly) {
      const [defaultCell, allowedCell, meaning] = rows.get(definition.name)!;
      expect(defaultCell, definition.name).toContain(`\`${formatConfigValue(definition.default)}\``);
      expectAllowedValuesIn(allowedCell, definition.validator, definition.name);
      expect(meaning.length, `${definition.name} has a meaning`).toBeGreaterThan(40);
    }
  });

  it('lists exactly the topic configs of the catalogue, with their defaults, broker synonyms in order and ranges', () => {
    const rows = tableUnder('Topic configs');
    expect([...rows.keys()].sort()).toEqual(topics.map((definition) => definition.name).sort());
    for (const definition of topics) {
      const [defaultCell, synonymCell, allowedCell, meaning] = rows.get(definition.name)!;
      expect(defaultCell, definition.name).toContain(`\`${formatConfigValue(definition.default)}\``);
      expect(synonymCell, definition.name).toBe(definition.brokerSynonyms.map((synonym) => `\`${synonym.name}\``).join(', '));
      expectAllowedValuesIn(allowedCell, definition.validator, definition.name);
      expect(meaning.length, `${definition.name} has a meaning`).toBeGreaterThan(40);
    }
  });

  it('lists exactly the broker synonyms of the catalogue, with their defaults, topic config, unit and ranges', () => {
    const rows = tableUnder('Broker defaults for topic configs');
    expect([...rows.keys()].sort()).toEqual(synonyms.map((definition) => definition.name).sort());
    for (const definition of synonyms) {
      const [defaultCell, topicCell, allowedCell] = rows.get(definition.name)!;
      const { topicConfig, scale } = definition.synonymOf!;
      expect(defaultCell, definition.name).toContain(`\`${formatConfigValue(definition.default)}\``);
      expect(topicCell, definition.name).toBe(scale === 1 ? `\`${topicConfig}\`` : `\`${topicConfig}\` (× ${scale})`);
      expectAllowedValuesIn(allowedCell, definition.validator, definition.name);
    }
  });

  it('explains what acks means with and without flush.messages=1', () => {
    const start = docs.indexOf('## Durability');
    expect(start).toBeGreaterThan(0);
    const section = docs.slice(start);
    for (const phrase of ['acks=all', 'flush.messages=1', 'page cache', 'OFFSET_OUT_OF_RANGE', 'power loss']) expect(section).toContain(phrase);
  });
});
