const { test, expect } = require('@playwright/test');
const { hydrated, newUser } = require('./support');

test('a recruiter builds a test with one question of each type, previews it, publishes it and sees it listed', async ({ page, browser }) => {
  await newUser(page, 'recruiter', 'builder');
  await page.getByRole('link', { name: 'New test' }).click();
  await expect(page).toHaveURL(/\/recruiter\/templates\/new$/);
  await expect(page.getByRole('heading', { name: 'New test' })).toBeVisible();
  await hydrated(page);

  // Saving an empty form lists every problem, in words, and saves nothing.
  await page.getByRole('button', { name: 'Save draft' }).click();
  const problems = page.locator('#builder-problems');
  await expect(problems).toContainText('title: must not be empty');
  await expect(problems).toContainText('questions: at least one question is needed');
  await expect(page.getByTestId('builder-status')).toContainText('Not saved yet');

  const title = `Builder ${Date.now()}`;
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByLabel('Description (shown to candidates)').fill('Three short questions.');
  await page.getByLabel('Time limit (minutes)').fill('25');
  // Weights are checked as they are typed.
  await page.getByLabel('Weight: accuracy').fill('0.9');
  await page.getByLabel('Weight: accuracy').blur();
  await expect(page.locator('.field-error', { hasText: 'must sum to 1' })).toBeVisible();
  await page.getByLabel('Weight: accuracy').fill('0.6');
  await expect(page.locator('.field-error', { hasText: 'must sum to 1' })).toHaveCount(0);

  // 1. Coding: a bad expected value is named inline until it is valid JSON.
  await page.getByRole('button', { name: 'Add coding question' }).click();
  const first = page.getByTestId('question-editor').nth(0);
  await expect(first.getByLabel('Question', { exact: true })).toBeFocused();
  await first.getByLabel('Question', { exact: true }).fill('Write add(a, b) returning the sum.');
  await first.getByLabel('Function name').fill('add');
  await first.getByLabel('Arguments (JSON array) of hidden test 1').fill('[1, 2]');
  const expected = first.getByLabel('Expected (JSON) of hidden test 1');
  await expected.fill('three');
  await expected.blur();
  await expect(first.locator('.field-error', { hasText: 'must be JSON' })).toBeVisible();
  await expect(expected).toHaveAttribute('aria-invalid', 'true');
  await expected.fill('3');
  await expect(first.locator('.field-error', { hasText: 'must be JSON' })).toHaveCount(0);
  await first.getByRole('button', { name: 'Add example' }).click();
  await first.getByLabel('Arguments (JSON array) of example 1').fill('[2, 2]');
  await first.getByLabel('Expected (JSON) of example 1').fill('4');

  // 2. Multiple choice.
  await page.getByRole('button', { name: 'Add multiple-choice question' }).click();
  const second = page.getByTestId('question-editor').nth(1);
  await second.getByLabel('Question', { exact: true }).fill('Which method is idempotent?');
  await second.getByLabel('Option 1', { exact: true }).fill('POST');
  await second.getByLabel('Option 2', { exact: true }).fill('PUT');
  await second.getByLabel('Option 2 is correct').check();

  // 3. Theory, then moved up to second place with the keyboard.
  await page.getByRole('button', { name: 'Add theory question' }).click();
  const third = page.getByTestId('question-editor').nth(2);
  await third.getByLabel('Question', { exact: true }).fill('Explain event delegation.');
  await third.getByLabel('Reference answer (hidden)').fill('SECRET-REFERENCE: one listener on a parent handles events of its children.');
  await third.getByLabel('Rubric keywords (hidden, comma-separated)').fill('bubbling, parent, target');
  await page.getByRole('button', { name: 'Move question 3 up' }).focus();
  await page.keyboard.press('Enter');
  // Once more, to the top: there "up" cannot act but keeps the focus. Then back down to second.
  await page.keyboard.press('Enter');
  const top = page.getByRole('button', { name: 'Move question 1 up' });
  await expect(top).toHaveAttribute('aria-disabled', 'true');
  await expect(top).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('question-editor').nth(0).locator('> legend')).toHaveText('Question 1 · Theory (free text)');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Move question 1 down' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('question-editor').nth(1).locator('> legend')).toHaveText('Question 2 · Theory (free text)');
  await expect(page.getByTestId('question-editor').nth(2).locator('> legend')).toHaveText('Question 3 · Multiple choice');

  // The preview shows what candidates see, and none of the hidden parts.
  await page.getByRole('button', { name: 'Preview as candidate' }).click();
  const preview = page.getByTestId('preview');
  await expect(preview).toContainText(title);
  await expect(preview).toContainText('Explain event delegation.');
  await expect(preview).toContainText('add(2, 2) → 4');
  await expect(preview).toContainText('Choose one answer.');
  await expect(preview).not.toContainText('SECRET-REFERENCE');
  await expect(preview).not.toContainText('bubbling');

  await page.getByRole('button', { name: 'Save and publish' }).click();
  await expect(page.getByTestId('builder-notice')).toHaveText('Saved (version 1).');
  await expect(page.getByTestId('builder-status')).toHaveText('Status: published · version 1');
  await expect(page).toHaveURL(/\/recruiter\/templates\/[0-9a-f]{24}$/);

  // A reload opens the stored test, in the saved order.
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Title', { exact: true })).toHaveValue(title);
  await expect(page.getByTestId('question-editor')).toHaveCount(3);
  await expect(page.getByTestId('question-editor').nth(1).getByLabel('Question', { exact: true })).toHaveValue('Explain event delegation.');
  await expect(page.getByTestId('question-editor').nth(2).getByLabel('Option 2 is correct')).toBeChecked();

  // On a slow connection, ticks made before the page is interactive are kept, like typed text.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/pkg/*.wasm', async (route) => { await held; await route.continue(); });
  await page.reload();
  const blockCopy = page.getByLabel('Block copy and paste in answers');
  const firstCorrect = page.getByTestId('question-editor').nth(2).getByLabel('Option 1 is correct');
  await expect(blockCopy).not.toBeChecked();
  await blockCopy.check();
  await firstCorrect.check();
  expect(await page.locator('html[data-hydrated]').count()).toBe(0);
  release();
  await hydrated(page);
  await page.unroute('**/pkg/*.wasm');
  await expect(blockCopy).toBeChecked();
  await expect(firstCorrect).toBeChecked();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByTestId('builder-notice')).toHaveText('Saved (version 1).');
  await expect(page.getByRole('button', { name: 'Save', exact: true })).toBeFocused();
  await page.reload();
  await hydrated(page);
  await expect(blockCopy).toBeChecked();
  await expect(page.getByTestId('question-editor').nth(2).getByLabel('Option 1 is correct')).toBeChecked();
  await expect(page.getByTestId('question-editor').nth(2).getByLabel('Option 2 is correct')).toBeChecked();

  // Listed on the dashboard as published; open to candidates.
  await page.getByRole('link', { name: '← Your tests' }).click();
  const row = page.getByTestId('template-list').locator('tbody tr', { hasText: title });
  await expect(row).toContainText('published');
  await expect(row).toContainText('3');
  const candidate = await browser.newContext();
  const candidatePage = await candidate.newPage();
  await newUser(candidatePage, 'candidate', 'viewer');
  await expect(candidatePage.getByRole('button', { name: `Start ${title}` })).toBeVisible();

  // Archived, it is no longer offered.
  await row.getByRole('link', { name: title, exact: true }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Archive' }).click();
  await expect(page.getByTestId('builder-status')).toHaveText('Status: archived · version 1');
  await candidatePage.reload();
  await expect(candidatePage.getByTestId('available-tests')).toBeVisible();
  await expect(candidatePage.getByRole('button', { name: `Start ${title}` })).toHaveCount(0);
  await candidate.close();
});
