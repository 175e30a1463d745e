import { z } from 'zod';

/** Wire shapes of the versions module (spec chapter 6), as we read a partner's answers. */

export const versionSchema = z.object({ version: z.string().min(1).max(10), url: z.string().url().max(2048) });
export const versionListSchema = z.array(versionSchema).max(50);
export const endpointSchema = z.object({
  identifier: z.string().min(1).max(50),
  role: z.enum(['SENDER', 'RECEIVER']),
  url: z.string().url().max(2048),
});
export const versionDetailsSchema = z.object({ version: z.string().min(1).max(10), endpoints: z.array(endpointSchema).max(100) });
export type VersionDetails = z.infer<typeof versionDetailsSchema>;
