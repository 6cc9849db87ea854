// Without the optional `tiktoken` peer, getEncoding explains how to fix it (UNSUPPORTED).
import { expect, it, vi } from 'vitest';

vi.mock('node:module', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:module')>();
  const missing = Object.assign(() => undefined, {
    resolve: (id: string) => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
    },
  });
  return { ...actual, createRequire: () => missing };
});

it('says to install tiktoken or use a .tiktoken file', async () => {
  const { getEncoding } = await import('./encodings.js');
  expect(() => getEncoding('o200k_base')).toThrow(/npm install tiktoken/);
  try {
    getEncoding('o200k_base');
  } catch (e) {
    expect((e as { code: string }).code).toBe('UNSUPPORTED');
    expect((e as Error).message).toMatch(/loadTiktokenFile/);
  }
});
