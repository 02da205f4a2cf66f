import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtInConnectors } from './built-in-connectors';
import { createConnectorRegistry } from './connector-registry';

describe('builtInConnectors', () => {
  it('has unique types and a registry by type', () => {
    const registry = createConnectorRegistry(builtInConnectors);
    expect([...registry.keys()].sort()).toEqual([
      'code.js',
      'flow.approval',
      'flow.fail',
      'flow.forEach',
      'flow.if',
      'flow.return',
      'flow.subworkflow',
      'flow.switch',
      'flow.wait',
      'flow.waitForEvent',
      'http.request',
      'transform',
    ]);
  });

  it('refuses two connectors of one type', () => {
    const [first] = builtInConnectors;
    if (!first) throw new Error('no connectors');
    expect(() => createConnectorRegistry([first, first])).toThrow(first.type);
  });

  it.each(builtInConnectors.map((connector) => [connector.type, connector] as const))(
    '%s has a JSON Schema for its params with every property described',
    (_type, connector) => {
      const schema = z.toJSONSchema(connector.params, { io: 'input', unrepresentable: 'any' });
      expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
      const properties =
        (schema as { properties?: Record<string, { description?: string }> }).properties ?? {};
      expect(Object.keys(properties).length).toBeGreaterThan(0);
      for (const [name, property] of Object.entries(properties)) {
        expect(property.description, `${connector.type}.${name}`).toBeTruthy();
      }
    },
  );
});
