import type { TestProject } from 'vitest/node';
import { prepareTemplate, startEmbeddedEngine, startServerEngine, type Engine } from '../src/db/testing.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    pgLabel: string;
  }
}

let engine: Engine | undefined;

export async function setup(project: TestProject) {
  const target = process.env.TEST_TARGET ?? 'embedded';
  if (target === 'server') {
    engine = process.env.TEST_DATABASE_URL
      ? { url: process.env.TEST_DATABASE_URL, label: 'TEST_DATABASE_URL', stop: async () => {} }
      : await startServerEngine();
  } else {
    engine = await startEmbeddedEngine();
  }
  await prepareTemplate(engine.url);
  project.provide('pgUrl', engine.url);
  project.provide('pgLabel', engine.label);
  console.log(`database engine for this run: ${engine.label}`);
}

export async function teardown() {
  await engine?.stop();
}
