import { z } from 'zod';
import { invalidParameters } from './status.js';

/**
 * Every request part (body, query, path parameters) goes through zod; anything wrong is OCPI
 * 2001 "Invalid or missing parameters" with the fields named, so a partner's developer can fix
 * it from the message alone.
 */
export function parseOcpi<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : what}: ${issue.message}`)
    .join('; ');
  throw invalidParameters(`invalid ${what}: ${problems}`);
}

/**
 * Client Owned Object push (spec 4.1.5.1): the id in the URL must be the id in the object, or
 * 2001. Country code and party id are compared case-insensitively (CiString).
 */
export function checkUrlMatchesBody(fields: ReadonlyArray<{ readonly name: string; readonly url: string; readonly body: unknown; readonly caseInsensitive?: boolean }>): void {
  for (const field of fields) {
    if (field.body === undefined) continue;
    const same = field.caseInsensitive
      ? typeof field.body === 'string' && field.body.toUpperCase() === field.url.toUpperCase()
      : field.body === field.url;
    if (!same) throw invalidParameters(`${field.name} in the URL (${field.url}) differs from ${field.name} in the body (${String(field.body)})`);
  }
}
