const { test, expect } = require('@playwright/test');

test('the landing page says what the product is', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveTitle('AI-fair technical assessments · Assess');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('AI is allowed');
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
});

test('the page hydrates: the prompt meter reacts to clicks without a reload', async ({ page }) => {
  await page.goto('/');
  await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
  // A marker on window survives only if the page is never reloaded.
  await page.evaluate(() => { window.__sameDocument = true; });

  const meter = page.getByTestId('prompt-meter');
  const ask = page.getByTestId('spend-prompt');
  await expect(meter).toHaveText('5 of 5 prompts left');
  await ask.click();
  await expect(meter).toHaveText('4 of 5 prompts left');
  for (let i = 0; i < 4; i += 1) await ask.click();
  await expect(meter).toHaveText('0 of 5 prompts left');
  await expect(ask).toHaveAttribute('aria-disabled', 'true');
  await expect(ask).toBeFocused();
  await expect(page.getByText('Budget spent')).toBeVisible();
  await page.getByRole('button', { name: 'Reset' }).click();
  await expect(meter).toHaveText('5 of 5 prompts left');

  expect(await page.evaluate(() => window.__sameDocument)).toBe(true);
});

test('the first Tab reaches the skip link, which moves focus to the content', async ({ page }) => {
  await page.goto('/');
  await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();
});

test('an unknown address shows the not-found page with HTTP 404', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the home page' }).click();
  await expect(page).toHaveURL(/\/$/);
});

test('health and readiness endpoints answer', async ({ request }) => {
  const health = await request.get('/healthz');
  expect(health.status()).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
  const ready = await request.get('/readyz');
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready', store: 'sqlite' });
  expect(ready.headers()['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
});

test('pages hydrate under the strict Content-Security-Policy, which blocks injected scripts', async ({ page }) => {
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const { newUser } = require('./support');
  await page.goto('/');
  await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
  expect(await page.evaluate(() => window.__violations)).toEqual([]);

  // An inline script slipped into the page (what an XSS would do) does not run.
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true;';
    document.body.append(script);
    return window.__injected === true;
  });
  expect(ran).toBe(false);
  expect((await page.evaluate(() => window.__violations)).join()).toContain('script-src');

  // A signed-in page with streamed data hydrates without a violation.
  await newUser(page, 'candidate');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  expect(await page.evaluate(() => window.__violations)).toEqual([]);
});
