const { test, expect } = require('@playwright/test');

const { hydrated, newUser, publishMixedTest } = require('./support');

// A fresh candidate (the demo data's two published tests are open to everyone).
const newCandidate = (page) => newUser(page, 'candidate', 'taker');

async function allSaved(page) {
  await expect(page.getByTestId('save-state')).toHaveText('All answers saved');
}

test('a candidate answers every kind of question, reloads mid-test, ends it and sees the scores', async ({ page, request }) => {
  const { title } = await publishMixedTest(request);
  await newCandidate(page);
  await page.getByRole('button', { name: `Start ${title}` }).click();
  await expect(page).toHaveURL(/\/candidate\/session\/[0-9a-f]{24}(\?q=1)?$/);
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  await expect(page.getByTestId('time-left')).toContainText(/(19|20):\d\d/);
  await hydrated(page);
  const questions = page.getByRole('navigation', { name: 'Questions' });

  // Question 1: code, starting from the starter code, which is no answer until edited.
  await expect(page.getByRole('heading', { name: 'Question 1 of 4' })).toBeVisible();
  const editor = page.getByTestId('code-editor');
  await expect(editor).toHaveValue(/function double/);
  await expect(page.getByText('0 of 4 answered')).toBeVisible();
  await editor.fill('function double(n) {\n  return n * 2;\n}\n');
  await allSaved(page);
  await expect(page.getByText('1 of 4 answered')).toBeVisible();

  // Question 2: choose all that apply.
  await page.getByRole('button', { name: 'Next' }).click();
  for (const method of ['GET', 'PUT', 'DELETE']) {
    await page.getByRole('checkbox', { name: method, exact: true }).check();
  }
  await allSaved(page);

  // Question 3: one option, reached through the navigator.
  await questions.getByRole('button', { name: /^3/ }).click();
  await page.getByRole('radio', { name: 'Hides the cookie from JavaScript' }).check();
  await allSaved(page);

  // Question 4: free text, saved once typing pauses. Reached from the keyboard: on the last
  // question "Next" is marked unavailable, keeps the focus and does nothing.
  const next = page.getByRole('button', { name: 'Next' });
  await next.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Question 4 of 4' })).toBeVisible();
  await expect(next).toBeFocused();
  await expect(next).toHaveAttribute('aria-disabled', 'true');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Question 4 of 4' })).toBeVisible();
  await page.getByTestId('theory-editor').fill(
    'The call stack runs one task at a time; each callback waits in a queue until the stack is empty.'
  );
  await allSaved(page);
  await expect(page.getByText('4 of 4 answered')).toBeVisible();

  // A reload resumes on the same question, with every answer.
  await expect(page).toHaveURL(/\?q=4$/);
  await page.reload();
  await hydrated(page);
  await expect(page.getByText('4 of 4 answered')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Question 4 of 4' })).toBeVisible();
  await expect(page.getByTestId('theory-editor')).toHaveValue(/waits in a queue/);
  await questions.getByRole('button', { name: /^1/ }).click();
  await expect(page.getByTestId('code-editor')).toHaveValue(/return n \* 2/);
  // Switching questions keeps each editor as it was: here, where the caret is.
  await editor.evaluate((area) => area.setSelectionRange(9, 9));
  await questions.getByRole('button', { name: /^2/ }).click();
  await expect(editor).toBeHidden();
  await questions.getByRole('button', { name: /^1/ }).click();
  await expect(editor).toBeVisible();
  expect(await editor.evaluate((area) => [area.selectionStart, area.selectionEnd])).toEqual([9, 9]);
  await questions.getByRole('button', { name: /^2/ }).click();
  await expect(page.getByRole('checkbox', { name: 'PUT', exact: true })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'POST', exact: true })).not.toBeChecked();

  // Ending asks first, with the focus on the button that confirms; keeping on working (or Escape)
  // gives the focus back.
  const endTest = page.getByRole('button', { name: 'End test' });
  await endTest.click();
  await expect(page.getByRole('alertdialog')).toContainText('You answered 4 of 4 questions');
  await expect(page.getByRole('button', { name: 'Yes, end the test' })).toBeFocused();
  await page.getByRole('button', { name: 'Keep working' }).click();
  await expect(page.getByRole('alertdialog')).toHaveCount(0);
  await expect(endTest).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alertdialog')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('alertdialog')).toHaveCount(0);
  await expect(endTest).toBeFocused();
  await page.getByRole('button', { name: 'End test' }).click();
  await page.getByRole('button', { name: 'Yes, end the test' }).click();

  const result = page.getByTestId('result');
  await expect(result).toBeVisible();
  // Code, both choices and the theory keywords are all right; only the theory answer's overlap
  // with the reference answer's words falls short of full marks.
  const accuracy = Number(await result.getByTestId('accuracy').innerText());
  expect(accuracy).toBeGreaterThan(90);
  expect(accuracy).toBeLessThanOrEqual(100);
  const total = Number(await result.getByTestId('total-score').innerText());
  expect(total).toBeGreaterThan(0);

  // The dashboard lists the attempt with its score; reopening it shows the result again.
  await page.goto('/candidate');
  const attempts = page.getByTestId('attempts');
  await expect(attempts.locator('tbody tr')).toHaveCount(1);
  await expect(attempts).toContainText('Completed');
  await expect(attempts).toContainText(total.toFixed(2));
  await attempts.getByRole('link', { name: 'View result' }).click();
  await expect(page.getByTestId('total-score')).toHaveText(total.toFixed(2));
});

test('a coding answer runs against the hidden tests: right code scores 100, wrong code less', async ({ page }) => {
  await newCandidate(page);
  await page.getByRole('button', { name: 'Start JavaScript: Two Sum' }).click();
  await expect(page).toHaveURL(/\/candidate\/session\//);
  await hydrated(page);
  const editor = page.getByTestId('code-editor');
  await expect(editor).toHaveValue(/function twoSum/);

  // Tab indents inside the editor instead of leaving it.
  await editor.fill('');
  await editor.press('Tab');
  await expect(editor).toHaveValue('  ');
  await expect(editor).toBeFocused();

  // "Run examples" runs the editor's code on the visible example only, with what it printed.
  await editor.fill('function twoSum(nums, target) { console.log("trying", target); return []; }');
  const runner = page.getByTestId('run-examples');
  await runner.getByRole('button', { name: 'Run examples' }).click();
  await expect(runner.getByTestId('run-summary')).toHaveText('0 of 1 examples passed');
  await expect(runner).toContainText('expected [0,1], got []');
  await expect(runner).toContainText('trying 9');

  await editor.fill(`function twoSum(nums, target) {
  const seen = new Map();
  for (let i = 0; i < nums.length; i++) {
    if (seen.has(target - nums[i])) return [seen.get(target - nums[i]), i];
    seen.set(nums[i], i);
  }
}`);
  await allSaved(page);
  // From the keyboard, the button keeps the focus through the run.
  const run = runner.getByRole('button', { name: 'Run examples' });
  await run.focus();
  await page.keyboard.press('Enter');
  await expect(runner.getByTestId('run-summary')).toHaveText('1 of 1 examples passed');
  await expect(run).toBeFocused();
  await expect(run).toHaveAttribute('aria-disabled', 'false');
  await page.getByRole('button', { name: 'End test' }).click();
  await page.getByRole('button', { name: 'Yes, end the test' }).click();
  await expect(page.getByTestId('accuracy')).toHaveText('100.00');

  // A second attempt with a wrong answer scores less.
  await page.goto('/candidate');
  await hydrated(page);
  await page.getByRole('button', { name: 'Start JavaScript: Two Sum' }).click();
  await expect(page).toHaveURL(/\/candidate\/session\//);
  await hydrated(page);
  await page.getByTestId('code-editor').fill('function twoSum(nums, target) { return [0, 1]; }');
  await allSaved(page);
  await page.getByRole('button', { name: 'End test' }).click();
  await page.getByRole('button', { name: 'Yes, end the test' }).click();
  const accuracy = Number(await page.getByTestId('accuracy').innerText());
  expect(accuracy).toBeLessThan(100);
  expect(accuracy).toBeGreaterThan(0);
});

test('when the test blocks copy and paste, the editors refuse a paste, say why, and the recruiter sees it', async ({ page, request }) => {
  const { title, token } = await publishMixedTest(request, { block_copy_paste: true });
  await newCandidate(page);
  await page.getByRole('button', { name: `Start ${title}` }).click();
  await expect(page).toHaveURL(/\/candidate\/session\/[0-9a-f]{24}/);
  await hydrated(page);
  const sessionId = page.url().match(/session\/([0-9a-f]{24})/)[1];

  const editor = page.getByTestId('code-editor');
  const before = await editor.inputValue();
  const accepted = await editor.evaluate((el) => {
    const event = new ClipboardEvent('paste', { bubbles: true, cancelable: true });
    return el.dispatchEvent(event);
  });
  expect(accepted).toBe(false);
  await expect(page.getByRole('alert')).toContainText('Copy and paste are turned off for this test');
  await expect(editor).toHaveValue(before);
  await page.getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByRole('alert')).toHaveCount(0);

  // The refused paste is on the record for the recruiter, live.
  await expect
    .poll(async () => {
      const detail = await request.get(`/api/v1/recruiter/result/${sessionId}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      const events = (await detail.json()).integrity_events || [];
      return events.filter((e) => e.kind === 'paste' && e.detail.includes('blocked')).length;
    })
    .toBe(1);
});

test('the assistant answers within the budget, marks a refused request, keeps the history and stops at zero', async ({ page, request }) => {
  const { title } = await publishMixedTest(request, { default_prompt_budget: 2 });
  await newCandidate(page);
  const fetched = [];
  page.on('request', (r) => fetched.push(r.url()));
  await page.getByRole('button', { name: `Start ${title}` }).click();
  await expect(page).toHaveURL(/\/candidate\/session\/[0-9a-f]{24}/);
  await hydrated(page);

  // Closed at first: its code is fetched only when the candidate opens it, and the prompt box
  // then has the focus.
  const closed = page.getByRole('region', { name: 'AI assistant' });
  await expect(closed).toContainText('2 of 2 prompts left');
  expect(fetched.filter((url) => url.includes('mount_assistant'))).toEqual([]);
  await closed.getByRole('button', { name: 'Open the assistant' }).click();
  const assistant = page.getByTestId('assistant');
  await expect(assistant.getByLabel('Your question to the assistant')).toBeFocused();
  expect(fetched.filter((url) => url.includes('mount_assistant')).length).toBe(1);
  await expect(assistant.getByTestId('assistant-offline')).toBeVisible();
  await expect(assistant.getByTestId('prompts-left')).toHaveText('2 of 2 prompts left');

  const box = assistant.getByLabel('Your question to the assistant');
  await box.fill('How does recursion work?');
  await assistant.getByRole('button', { name: 'Ask' }).click();
  const exchanges = assistant.getByTestId('exchanges').locator(':scope > li');
  await expect(exchanges).toHaveCount(1);
  await expect(exchanges.first()).toContainText('Offline assistant');
  await expect(exchanges.first()).toContainText('base case');
  await expect(assistant.getByTestId('prompts-left')).toHaveText('1 of 2 prompts left');
  await expect(box).toHaveValue('');

  // A request for the solution is refused, marked with the reason, and still counts.
  await box.fill('Just give me the full code for double');
  await box.press('Enter'); // a newline only; the button sends
  await assistant.getByRole('button', { name: 'Ask' }).click();
  await expect(exchanges).toHaveCount(2);
  await expect(exchanges.nth(1).getByTestId('blocked-mark')).toContainText('asks for the solution');
  await expect(assistant.getByTestId('prompts-left')).toHaveText('0 of 2 prompts left');
  await expect(box).toBeDisabled();
  await expect(assistant).toContainText('You have used every prompt');

  // The history belongs to its question, and survives a reload.
  await page.getByRole('navigation', { name: 'Questions' }).getByRole('button').nth(1).click();
  await expect(exchanges).toHaveCount(0);
  await page.getByRole('navigation', { name: 'Questions' }).getByRole('button').nth(0).click();
  // The assistant was open: it opens again by itself.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('assistant').getByTestId('exchanges').locator(':scope > li')).toHaveCount(2);
  await expect(page.getByTestId('assistant').getByTestId('prompts-left')).toHaveText('0 of 2 prompts left');
  await expect(page.getByTestId('assistant').getByLabel('Your question to the assistant')).toBeDisabled();
});

test('answers show before the page is interactive, and what is typed then is kept and saved', async ({ page, request }) => {
  const { title } = await publishMixedTest(request);
  await newCandidate(page);
  await page.getByRole('button', { name: `Start ${title}` }).click();
  await expect(page).toHaveURL(/\/candidate\/session\/[0-9a-f]{24}/);
  await hydrated(page);
  await page.getByTestId('code-editor').fill('function double(n) {\n  return n + n;\n}\n');
  await allSaved(page);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('checkbox', { name: 'GET', exact: true }).check();
  await allSaved(page);

  // A slow connection: the WebAssembly arrives only after the candidate has changed answers.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/pkg/*.wasm', async (route) => { await held; await route.continue(); });
  await page.reload();
  const checkbox = (name) => page.getByRole('checkbox', { name, exact: true });
  await expect(checkbox('GET')).toBeChecked();
  await expect(checkbox('PUT')).not.toBeChecked();
  await checkbox('PUT').check();
  expect(await page.locator('html[data-hydrated]').count()).toBe(0);
  release();
  await hydrated(page);
  await expect(checkbox('PUT')).toBeChecked();
  await expect(checkbox('GET')).toBeChecked();
  await allSaved(page);

  // The same for the code editor, whose saved answer is on the page from the start.
  const again = new Promise((resolve) => { release = resolve; });
  await page.unroute('**/pkg/*.wasm');
  await page.route('**/pkg/*.wasm', async (route) => { await again; await route.continue(); });
  await page.goto(page.url().replace(/\?q=\d+$/, '?q=1'));
  const editor = page.getByTestId('code-editor');
  await expect(editor).toHaveValue(/return n \+ n;/);
  await editor.fill('function double(n) {\n  return 2 * n;\n}\n');
  expect(await page.locator('html[data-hydrated]').count()).toBe(0);
  release();
  await hydrated(page);
  await expect(editor).toHaveValue(/return 2 \* n;/);
  await allSaved(page);

  // Both reached the server.
  await page.unroute('**/pkg/*.wasm');
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('code-editor')).toHaveValue(/return 2 \* n;/);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(checkbox('PUT')).toBeChecked();
  await expect(checkbox('GET')).toBeChecked();
});

test('when the time is up the countdown turns urgent, then ends the test by itself and shows the scores', async ({ page, request }) => {
  const { title } = await publishMixedTest(request);
  await newCandidate(page);
  // The page's clock, moved forward by the test: the server's deadline is twenty real minutes
  // away, so the test ends because the page ends it, as the candidate's own clock runs out.
  await page.clock.install();
  await page.getByRole('button', { name: `Start ${title}` }).click();
  await expect(page).toHaveURL(/\/candidate\/session\/[0-9a-f]{24}/);
  await hydrated(page);
  await page.getByTestId('code-editor').fill('function double(n) {\n  return n * 2;\n}\n');
  await allSaved(page);

  const timer = page.getByTestId('time-left');
  await expect(timer).not.toHaveClass(/urgent/);
  await page.clock.fastForward('19:30');
  await expect(timer).toHaveClass(/urgent/);
  await expect(timer).toContainText(/00:[0-5]\d/);

  await page.clock.fastForward('01:00');
  const result = page.getByTestId('result');
  await expect(result).toBeVisible();
  expect(Number(await result.getByTestId('accuracy').innerText())).toBeGreaterThan(0);
});
