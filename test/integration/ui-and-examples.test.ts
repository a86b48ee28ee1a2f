/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { startTestGateway } from '../support/gateway.js';

/** Debian's chromium; .ci/run installs it. CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');

describe('the examples and the bundled GraphiQL against the real gateway', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.stop());

  it('npm run examples: every examples/*.graphql answers with its variables file', async () => {
    // Asynchronously: the gateway under test shares this process's event loop.
    const run = await promisify(execFile)(
      process.execPath,
      [path.join(REPO_ROOT, 'dist', 'scripts', 'run-examples.js'), gw.url],
      { encoding: 'utf8' },
    );
    for (const name of ['credit', 'forecast', 'models', 'news-sentiment', 'sentiment'])
      assert.match(run.stdout, new RegExp(`^${name} +\\d+ ms  ok: `, 'm'));
    assert.match(run.stdout, /examples: 6 answered, 0 failed/);
  });

  it('GET /graphql serves GraphiQL to a browser and still answers GraphQL to everyone else', async () => {
    const page = await fetch(gw.url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
    const html = await page.text();
    assert.match(html, /<script src="\/graphiql\/assets\/graphiql\.js">/);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing is loaded from another host');
    const api = await fetch(`${gw.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    // The answer, with its cost as every response carries it (demand control).
    const answer = (await api.json()) as { data: unknown; extensions: { cost: { estimated: number } } };
    assert.deepEqual(answer.data, { __typename: 'Query' });
    assert.equal(answer.extensions.cost.estimated, 1);
    assert.equal((await fetch(gw.url.replace('/graphql', '/graphiql/assets/nope.js'))).status, 404);
  });

  it('headless Chromium, offline: the page loads, runs the Sentiment example and shows its answer', async (t) => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`,
    );
    let browser: Browser | undefined;
    let page: Page | undefined;
    const foreign: string[] = [];
    try {
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      page = await browser.newPage();
      await page.setViewport({ width: 1400, height: 900 });
      const origin = new URL(gw.url).origin;
      page.on('request', (r) => {
        if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      await page.goto(gw.url, { waitUntil: 'networkidle0' });
      await page.waitForSelector('.graphiql-tab-button');
      const titles = await page.$$eval('.graphiql-tab-button', (tabs) => tabs.map((b) => b.textContent?.trim()));
      assert.deepEqual(titles, [
        'CreditAssessments',
        'Forecast',
        'Models',
        'NewsSentiment',
        'Sentiment',
        'TargetedSentiment',
      ]);

      await page.$$eval('.graphiql-tab-button', (tabs) =>
        (tabs.find((b) => b.textContent?.trim() === 'Sentiment') as HTMLElement).click(),
      );
      await page.waitForFunction(() =>
        document.querySelector('.graphiql-query-editor')?.textContent?.includes('sentiment(texts: $texts)'),
      );
      // GraphiQL reads the operation name from the editor 100 ms (debounced) after the tab's text lands.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await page.click('.graphiql-execute-button');
      await page.waitForFunction(
        () => document.querySelector('.graphiql-response')?.textContent?.includes('"label": "NEGATIVE"'),
        { timeout: 20_000 },
      );
      const response = await page.$eval('.graphiql-response', (e) => e.textContent ?? '');
      assert.match(response, /"label": "POSITIVE"/);
      assert.match(response, /"name": "sentiment-bert"/);

      await page.click('[aria-label="Show Documentation Explorer"]');
      await page.waitForFunction(() =>
        document.querySelector('.graphiql-doc-explorer')?.textContent?.includes('CreditAssessment'),
      );
      assert.deepEqual(foreign, [], 'the page asked for nothing outside the gateway');
    } catch (error) {
      if (page) {
        mkdirSync(ARTIFACTS, { recursive: true });
        const file = path.join(ARTIFACTS, 'graphiql-failure.png');
        await page.screenshot({ path: file }).catch(() => undefined);
        t.diagnostic(`screenshot: ${file}`);
      }
      throw error;
    } finally {
      await browser?.close();
    }
  });
});
