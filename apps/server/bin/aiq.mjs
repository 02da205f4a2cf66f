#!/usr/bin/env node
// The aiq command. The server runs from its TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
