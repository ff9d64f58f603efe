import { defineConfig } from '@playwright/test'

// Run by scripts/console-e2e.sh against `sansuo serve --demo`
// (CONSOLE_BASE_URL), driving Debian's chromium (no browser download).
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results/artifacts',
  timeout: 90_000,
  expect: { timeout: 10_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.CONSOLE_BASE_URL || 'http://127.0.0.1:8080',
    headless: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1366, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    },
    trace: 'retain-on-failure',
  },
})
