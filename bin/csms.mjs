#!/usr/bin/env node
// Runs the TypeScript CLI without a build step: `npx csms`, `npm run csms -- ...`, `npm start`.
// tsx's ESM API hooks module loading through node:module register(), available on Node >= 20.6
// (and on 22 and 24), so the loader stays scoped to this process and needs no --import flag.
import { register } from 'tsx/esm/api';

/** After a command is done, how long a forgotten handle (socket, timer) may keep the process up. */
const exitAfterDoneMsMax = 2_000;

register();
const { main } = await import('../api/cli/main.ts');
process.exitCode = await main(process.argv);
// Normally the process ends by itself here. If a library left a handle open, end anyway rather
// than hang a script; unref() so this timer never delays a clean exit.
setTimeout(() => process.exit(), exitAfterDoneMsMax).unref();
