// The API documentation page: Swagger UI served by the app itself (no CDN), rendering the
// OpenAPI document under the page's own Content-Security-Policy without a violation.
const { test, expect } = require('@playwright/test');

test('the API docs render every operation offline and can call the API', async ({ page }) => {
  const external = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.hostname !== '127.0.0.1') external.push(request.url());
  });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });

  await page.goto('/docs');
  await expect(page.getByRole('heading', { name: /AI-fair assessment API/ })).toBeVisible();
  const login = page.locator('.opblock').filter({ hasText: '/api/v1/auth/{role}/login' });
  await expect(login).toBeVisible();
  await expect(page.locator('.opblock')).toHaveCount(27);

  // "Try it out" on an operation reaches the API from the page (connect-src 'self').
  const me = page.locator('.opblock').filter({ hasText: '/api/v1/auth/me' });
  await me.locator('.opblock-summary').click();
  await me.getByRole('button', { name: 'Try it out' }).click();
  await me.getByRole('button', { name: 'Execute' }).click();
  await expect(me.locator('.live-responses-table tbody .response-col_status')).toHaveText('401');

  expect(await page.evaluate(() => window.__violations)).toEqual([]);
  expect(external).toEqual([]);
});
