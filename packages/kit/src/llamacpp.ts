/**
 * node-llama-cpp 3.21.1 (llama.cpp's own code, CPU prebuilt) for comparison tests and benchmarks, installed on
 * demand into a cache folder outside the workspace ($LLM_TS_LLAMACPP_DIR or <tmpdir>/llm-ts-llamacpp)
 * so it never enters the main install. Returns null with the reason when it cannot be installed
 * (no network).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

export const LLAMACPP_VERSION = '3.21.1';

export function llamaCppDir(): string {
  return process.env.LLM_TS_LLAMACPP_DIR ?? join(tmpdir(), 'llm-ts-llamacpp');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NodeLlamaCpp = any;

export async function loadNodeLlamaCpp(): Promise<{ lib: NodeLlamaCpp; reason?: undefined } | { lib: null; reason: string }> {
  const dir = llamaCppDir();
  const entry = join(dir, 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
  if (!existsSync(entry)) {
    try {
      mkdirSync(dir, { recursive: true });
      if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{"name":"llm-ts-llamacpp-cache","private":true}\n');
      await promisify(execFile)(
        'npm',
        ['i', '-E', `node-llama-cpp@${LLAMACPP_VERSION}`, `@node-llama-cpp/linux-x64@${LLAMACPP_VERSION}`, '--omit=optional', '--no-audit', '--no-fund'],
        { cwd: dir, timeout: 180_000 },
      );
    } catch (e) {
      return { lib: null, reason: `could not install node-llama-cpp ${LLAMACPP_VERSION} into ${dir} (no network?): ${(e as Error).message.split('\n')[0]}` };
    }
  }
  try {
    return { lib: await import(pathToFileURL(entry).href) };
  } catch (e) {
    return { lib: null, reason: `could not load node-llama-cpp from ${dir}: ${(e as Error).message}` };
  }
}
