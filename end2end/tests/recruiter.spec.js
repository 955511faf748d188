const { test, expect } = require('@playwright/test');

// The server under test starts on an empty data directory in development mode, so it creates the
// demo accounts and sample tests that the README promises.
test('the demo recruiter sees the sample tests listed with their status', async ({ page }) => {
  await page.goto('/login?role=recruiter');
  await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
  await page.getByLabel('Email').fill('demo-recruiter@example.com');
  await page.getByLabel('Password').fill('demo-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/recruiter$/);

  const list = page.getByTestId('template-list');
  await expect(list).toBeVisible();
  const rows = list.locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(list.getByRole('rowheader', { name: 'JavaScript: Two Sum' })).toBeVisible();
  await expect(list.getByRole('rowheader', { name: 'Web fundamentals' })).toBeVisible();
  await expect(rows.filter({ hasText: 'JavaScript: Two Sum' })).toContainText('published');
  await expect(rows.filter({ hasText: 'Web fundamentals' })).toContainText('3');

  // A reload renders the same list on the server.
  await page.reload();
  await expect(page.getByTestId('template-list').locator('tbody tr')).toHaveCount(2);
});
