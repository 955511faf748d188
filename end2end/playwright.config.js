// Browser journeys run against the release server built by `cargo leptos build --release --split
// --precompress`, started here on its own port with a fresh, empty data directory and the offline
// assistant. A second instance talks to a fake OpenAI-compatible endpoint (fake-llm.js) for the
// journeys of a streamed model reply (assistant.spec.js).
const { defineConfig } = require('@playwright/test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const port = Number(process.env.E2E_PORT || 3100);
const root = path.resolve(__dirname, '..');
const llmPort = Number(process.env.E2E_LLM_PORT || 3101);
const fakeLlmPort = Number(process.env.FAKE_LLM_PORT || 3190);
const newDataDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'assess-e2e-'));

// The app's release server on `appPort`, with `extra` environment.
function appServer(appPort, extra) {
  return {
    command: process.env.E2E_SERVER_BIN || path.join(root, 'target/release/server'),
    cwd: root,
    url: `http://127.0.0.1:${appPort}/healthz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      ...process.env,
      APP_ENV: 'development',
      DATA_DIR: newDataDir(),
      LEPTOS_OUTPUT_NAME: 'assess',
      LEPTOS_SITE_ROOT: path.join(root, 'target/site'),
      LEPTOS_SITE_PKG_DIR: 'pkg',
      LEPTOS_SITE_ADDR: `127.0.0.1:${appPort}`,
      LEPTOS_ENV: 'PROD',
      MONGO_URI: '',
      LLM_BASE_URL: '',
      RUST_LOG: 'warn',
      ...extra,
    },
  };
}

module.exports = defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: [
    appServer(port, {}),
    {
      command: `node ${path.join(__dirname, 'fake-llm.js')}`,
      url: `http://127.0.0.1:${fakeLlmPort}/healthz`,
      timeout: 10_000,
      reuseExistingServer: false,
      env: { ...process.env, FAKE_LLM_PORT: String(fakeLlmPort) },
    },
    appServer(llmPort, {
      LLM_BASE_URL: `http://127.0.0.1:${fakeLlmPort}/v1`,
      LLM_MODEL: 'fake-model',
      LLM_TIMEOUT_SECONDS: '10',
    }),
  ],
});
