// The assistant with a model behind it: the app instance on E2E_LLM_PORT talks to fake-llm.js,
// which streams its replies in timed pieces.
const { test, expect } = require('@playwright/test');

const { hydrated, newUser, publishMixedTest } = require('./support');

const llmPort = Number(process.env.E2E_LLM_PORT || 3101);
test.use({ baseURL: `http://127.0.0.1:${llmPort}` });

test('a model reply streams in as Markdown, a leaked solution never shows, and a reload keeps both', async ({ page, request }) => {
  const { title } = await publishMixedTest(request, { default_prompt_budget: 3 });
  await newUser(page, 'candidate', 'streamer');
  await page.getByRole('button', { name: `Start ${title}` }).click();
  await expect(page).toHaveURL(/\/candidate\/session\/[0-9a-f]{24}/);
  await hydrated(page);
  await page.getByRole('button', { name: 'Open the assistant' }).click();
  const assistant = page.getByTestId('assistant');
  await expect(assistant.getByTestId('assistant-offline')).toHaveCount(0);
  await expect(assistant.getByTestId('prompts-left')).toHaveText('3 of 3 prompts left');
  const box = assistant.getByLabel('Your question to the assistant');
  const ask = assistant.getByRole('button', { name: 'Ask' });
  const exchanges = assistant.getByTestId('exchanges').locator(':scope > li');

  // The first words are on screen, formatted, while the rest is still being generated.
  await box.fill('How do strings and numbers mix with +?');
  await ask.click();
  const live = assistant.getByTestId('live-exchange');
  await expect(live.locator('.reply strong')).toHaveText('types');
  await expect(live).not.toContainText('MDN');
  await expect(live.getByRole('status')).toHaveText('The assistant is answering…');
  // Busy, and still where the keyboard left it.
  await expect(ask).toHaveAttribute('aria-disabled', 'true');
  await expect(ask).toBeFocused();

  // Done: the whole reply as Markdown; raw HTML in it is only text.
  await expect(live).toHaveCount(0);
  await expect(exchanges).toHaveCount(1);
  const reply = exchanges.first().locator('.reply');
  await expect(reply.locator('code').first()).toHaveText('+');
  await expect(reply.locator('li')).toHaveCount(2);
  const link = reply.getByRole('link', { name: 'MDN' });
  await expect(link).toHaveAttribute('href', 'https://developer.mozilla.org/');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer nofollow');
  await expect(reply).toContainText('<img src=x onerror="window.pwned=1"> tags stay text.');
  await expect(reply.locator('img')).toHaveCount(0);
  expect(await page.evaluate(() => window.pwned)).toBeUndefined();
  await expect(assistant.getByTestId('prompts-left')).toHaveText('2 of 3 prompts left');

  // A reply carrying the solution is held back while it streams and replaced by a refusal.
  await page.evaluate(() => {
    window.seen = [];
    const list = document.querySelector('[data-testid="exchanges"]');
    window.watch = setInterval(() => window.seen.push(list.innerText), 25);
  });
  await box.fill('What should I consider for negative inputs?');
  await ask.click();
  await expect(exchanges).toHaveCount(2);
  await expect(exchanges.nth(1).getByTestId('blocked-mark')).toContainText('complete implementation');
  const seen = await page.evaluate(() => { clearInterval(window.watch); return window.seen; });
  expect(seen.some((text) => text.includes('Here is the idea.'))).toBe(true);
  expect(seen.filter((text) => text.includes('return n * 2'))).toEqual([]);
  await expect(assistant.getByTestId('prompts-left')).toHaveText('1 of 3 prompts left');

  // A reload shows the same history, rendered the same way.
  await page.reload();
  await hydrated(page);
  const again = page.getByTestId('assistant').getByTestId('exchanges').locator(':scope > li');
  await expect(again).toHaveCount(2);
  await expect(again.first().locator('.reply strong')).toHaveText('types');
  await expect(again.nth(1).getByTestId('blocked-mark')).toBeVisible();
  await expect(page.getByTestId('assistant')).not.toContainText('return n * 2');
});
