import { z } from 'zod';
import { scenarioObject, stepUnion } from './schema.js';

/** The JSON Schema of scenario files, for editors (yaml-language-server) and other tools. */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://vipdrill.dev/schemas/scenario.schema.json',
    title: 'vipdrill scenario',
    ...z.toJSONSchema(scenarioObject.extend({ steps: z.array(stepUnion).min(1) }), { io: 'input', unrepresentable: 'any' }),
  };
}
