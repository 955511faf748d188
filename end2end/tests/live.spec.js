// The interviewer chat and the recruiter's live view, in two browsers at once.
const { test, expect } = require('@playwright/test');

const { hydrated, newUser, logIn, publishMixedTest } = require('./support');

test('a candidate chats while the recruiter watches the chat line and a prompt arrive live', async ({ browser, request }) => {
  const { title, email: recruiterEmail } = await publishMixedTest(request, { default_prompt_budget: 3 });

  // The candidate starts the test and the chat connects.
  const candidateContext = await browser.newContext();
  const candidate = await candidateContext.newPage();
  const candidateEmail = await newUser(candidate, 'candidate', 'chatter');
  await candidate.getByRole('button', { name: `Start ${title}` }).click();
  await expect(candidate).toHaveURL(/\/candidate\/session\/[0-9a-f]{24}/);
  await hydrated(candidate);
  await candidate.getByRole('button', { name: 'Open the chat' }).click();
  const chat = candidate.getByTestId('chat');
  await expect(chat.getByTestId('chat-state')).toHaveText('Connected');

  // The recruiter finds the session on the dashboard and opens its live view.
  const recruiterContext = await browser.newContext();
  const recruiter = await recruiterContext.newPage();
  await recruiter.goto('/login');
  await hydrated(recruiter);
  await logIn(recruiter, 'recruiter', recruiterEmail);
  await expect(recruiter).toHaveURL(/\/recruiter$/);
  await hydrated(recruiter);
  await recruiter.getByRole('link', { name: `Watch ${candidateEmail} taking ${title}` }).click();
  await expect(recruiter).toHaveURL(/\/recruiter\/live\/[0-9a-f]{24}$/);
  await hydrated(recruiter);
  const live = recruiter.getByTestId('live-view');
  await expect(live.getByTestId('live-state')).toHaveText('Connected');
  await expect(live.getByTestId('live-time-left')).toHaveText(/^(19|20):\d\d$/);
  const feed = recruiter.getByTestId('live-feed');

  // A chat line, sent from the keyboard, is answered and shows up on the recruiter's page.
  const box = chat.getByPlaceholder('Message to the interviewer');
  await box.fill('How much time is left?');
  await box.press('Enter');
  const lines = chat.getByTestId('chat-lines').locator(':scope > li');
  await expect(lines).toHaveCount(2);
  await expect(lines.nth(0)).toContainText('How much time is left?');
  await expect(lines.nth(1)).toContainText('Interviewer');
  await expect(lines.nth(1)).toContainText('left; the test ends at');
  await expect(box).toHaveValue('');
  await expect(feed).toContainText('How much time is left?');
  await expect(feed.locator('li.chat')).toHaveCount(2);

  // A prompt to the assistant, blocked, appears flagged with its reason.
  await candidate.getByRole('button', { name: 'Open the assistant' }).click();
  const assistant = candidate.getByTestId('assistant');
  await assistant.getByLabel('Your question to the assistant').fill('Just give me the full code for double');
  await assistant.getByRole('button', { name: 'Ask' }).click();
  await expect(assistant.getByTestId('prompts-left')).toHaveText('2 of 3 prompts left');
  const prompt = feed.locator('li.prompt');
  await expect(prompt).toContainText('Just give me the full code for double');
  await expect(prompt.getByTestId('blocked-mark')).toContainText('asks for the solution');
  await expect(live.getByTestId('live-prompts')).toHaveText('1 of 3 used, 1 blocked');

  // An answer save appears too.
  await candidate.getByTestId('code-editor').fill('function double(n) {\n  return n * 2;\n}\n');
  await expect(candidate.getByTestId('save-state')).toHaveText('All answers saved');
  await expect(feed.locator('li.answer')).toContainText('Question 1 (double)');

  // After a reload the candidate's chat, left open, comes back by itself, once.
  await candidate.reload();
  await hydrated(candidate);
  await expect(candidate.getByTestId('chat').getByTestId('chat-state')).toHaveText('Connected');
  await expect(candidate.getByTestId('chat').getByTestId('chat-lines').locator(':scope > li')).toHaveCount(2);

  // Ending the test ends the live view.
  await candidate.getByRole('button', { name: 'End test' }).click();
  await candidate.getByRole('button', { name: 'Yes, end the test' }).click();
  await expect(candidate.getByTestId('result')).toBeVisible();
  await expect(live.getByTestId('live-state')).toHaveText('The session has ended');
  await expect(live.getByTestId('live-time-left')).toHaveText('Ended');
  await expect(live.getByRole('link', { name: 'See the result' })).toBeVisible();

  await candidateContext.close();
  await recruiterContext.close();
});
