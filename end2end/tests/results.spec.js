const { test, expect } = require('@playwright/test');
const { hydrated, logIn, apiUser } = require('./support');

// One attempt taken through the REST API: answers, an integrity event, then the end.
async function attempt(request, templateId, code, choice) {
  const candidate = await apiUser(request, 'candidate', 'attempt');
  const started = await request.post(`/api/v1/candidate/session/start/${templateId}`, { headers: candidate.headers });
  expect(started.status()).toBe(200);
  const { session_id: id } = await started.json();
  for (const [question_id, answer] of [['double', code], ['pick', choice]]) {
    const saved = await request.post(`/api/v1/candidate/session/submit-answer/${id}`, {
      headers: candidate.headers, data: { question_id, answer },
    });
    expect(saved.status()).toBe(200);
  }
  for (const prompt of ['What does Array.isArray do?', 'Write the double function for me']) {
    const asked = await request.post(`/api/v1/candidate/llm-prompt/${id}`, {
      headers: candidate.headers, data: { prompt, question_id: 'double' },
    });
    expect(asked.status()).toBe(200);
  }
  const event = await request.post(`/api/v1/candidate/session/${id}/integrity-event`, {
    headers: candidate.headers, data: { kind: 'tab_hidden', detail: 'for 12 seconds' },
  });
  expect(event.status()).toBeLessThan(300);
  expect((await request.post(`/api/v1/candidate/session/end/${id}`, { headers: candidate.headers })).status()).toBe(200);
  return candidate.email;
}

// A published two-question test (double(n) with two hidden tests; pick B) scored on accuracy
// alone, so the total is the accuracy; its id.
async function publishScoredTest(request, recruiter, title) {
  const created = await request.post('/api/v1/recruiter/test-template', {
    headers: recruiter.headers,
    data: {
      title, time_limit_minutes: 30, default_prompt_budget: 3,
      weights: { accuracy: 1, speed_efficiency: 0, prompt_wellness: 0 },
      questions: [
        { id: 'double', type: 'coding', prompt: 'Write double(n).', function_name: 'double',
          test_cases: [{ input: [2], expected: 4 }, { input: [-3], expected: -6 }] },
        { id: 'pick', type: 'multiple_choice', prompt: 'Pick B.', options: ['A', 'B'], correct: [1] },
      ],
    },
  });
  expect(created.status()).toBe(201);
  return (await created.json()).id;
}

test('a recruiter filters, sorts and opens results, with the score distribution of the test', async ({ page, request }) => {
  const recruiter = await apiUser(request, 'recruiter', 'reviewer');
  const title = `Results ${Date.now()}`;
  const templateId = await publishScoredTest(request, recruiter, title);
  const strong = await attempt(request, templateId, 'function double(n) { return n * 2; }', [1]);
  const weak = await attempt(request, templateId, 'function double(n) { return n + 2; }', [0]);

  await page.goto('/login?role=recruiter');
  await hydrated(page);
  await logIn(page, 'recruiter', recruiter.email);
  await expect(page).toHaveURL(/\/recruiter$/);
  await page.getByRole('link', { name: `Results of ${title}` }).click();
  await expect(page).toHaveURL(new RegExp(`/recruiter/results\\?template_id=${templateId}$`));

  // The distribution: the strong attempt scores 100 (top band); the weak one passes one test of
  // two and picks the wrong option: accuracy (50 + 0) / 2 = 25, all of the total.
  await expect(page.getByTestId('chart-summary')).toHaveText(/^2 graded attempts · mean \d+\.\d\d · median \d+\.\d\d$/);
  const chart = page.getByTestId('score-chart');
  await expect(chart.locator('desc')).toContainText('20–29: 1, 30–39: 0');
  await expect(chart.locator('desc')).toContainText('90–100: 1');
  await expect(chart.locator('rect.bar')).toHaveCount(10);

  const table = page.getByTestId('results');
  const rows = table.locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('page-info')).toHaveText('Page 1 of 1 · 2 attempts');

  // Sorting by total: highest first, then lowest first; the address keeps the order.
  await table.getByRole('link', { name: 'Total' }).click();
  await expect(page).toHaveURL(/sort=score_desc/);
  await expect(rows.first()).toContainText(strong);
  await expect(table.locator('th[aria-sort="descending"]')).toHaveText(/Total/);
  await expect(rows.first().getByTestId('result-rank')).toHaveText('1');
  await expect(rows.nth(1).getByTestId('result-rank')).toHaveText('2');
  await table.getByRole('link', { name: 'Total' }).click();
  await expect(page).toHaveURL(/sort=score_asc/);
  await expect(rows.first()).toContainText(weak);
  await page.reload();
  await expect(page.getByTestId('results').locator('tbody tr').first()).toContainText(weak);
  await hydrated(page);

  // Filtering by candidate.
  await page.getByLabel('Candidate email contains').fill(strong.slice(0, 24));
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/candidate=/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(strong);
  await expect(rows.first().getByTestId('result-total')).toHaveText('100.00');

  // The detail: answers, per-test outcomes, integrity timeline, scores.
  await rows.first().getByRole('link', { name: strong }).click();
  await expect(page).toHaveURL(/\/recruiter\/results\/[0-9a-f]{24}$/);
  const detail = page.getByTestId('result-detail');
  await expect(detail.getByRole('heading', { level: 1 })).toHaveText(`${strong} · ${title}`);
  await expect(page.getByTestId('detail-total')).toHaveText('100.00');
  await expect(page.locator('pre.answer')).toContainText('return n * 2;');
  await expect(page.locator('table.tests tbody tr')).toHaveCount(2);
  await expect(page.locator('table.tests tbody tr').first()).toContainText('passed');
  await expect(page.locator('table.tests tbody tr').first()).toContainText('[2]');
  await expect(page.locator('.choices li.picked')).toContainText('chosen, correct');
  await expect(page.getByTestId('integrity-timeline')).toContainText('Left the tab — for 12 seconds');
  const prompts = page.getByTestId('prompt-history').locator('li');
  await expect(prompts).toHaveCount(2);
  await expect(prompts.nth(0)).toContainText('What does Array.isArray do?');
  await expect(prompts.nth(0).locator('.blocked-mark')).toHaveCount(0);
  await expect(prompts.nth(1)).toContainText('Blocked: the prompt asks for the solution');

  // The weak attempt shows its failures.
  await page.goBack();
  await page.getByLabel('Candidate email contains').fill('');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('results').locator('tbody tr')).toHaveCount(2);
  await page.getByRole('link', { name: weak }).click();
  await expect(page.getByTestId('detail-total')).toHaveText('25.00');
  await expect(page.locator('table.tests tbody tr.failed')).toHaveCount(1);
  await expect(page.locator('.choices li.picked')).toContainText('chosen, wrong');
});

test('a recruiter overrides a question score with a note; the totals follow and the override can be taken back', async ({ page, request }) => {
  const recruiter = await apiUser(request, 'recruiter', 'overrider');
  const title = `Override ${Date.now()}`;
  const templateId = await publishScoredTest(request, recruiter, title);
  const weak = await attempt(request, templateId, 'function double(n) { return n + 2; }', [0]);

  await page.goto('/login?role=recruiter');
  await hydrated(page);
  await logIn(page, 'recruiter', recruiter.email);
  await expect(page).toHaveURL(/\/recruiter$/);
  await page.goto(`/recruiter/results?template_id=${templateId}`);
  await page.getByRole('link', { name: weak }).click();
  await hydrated(page);
  await expect(page.getByTestId('detail-total')).toHaveText('25.00');

  const pick = page.locator('li.result-question').filter({ hasText: 'Pick B.' });
  await expect(pick.getByTestId('question-score')).toHaveText('0.00 / 100');
  await pick.getByText('Override this score').click();
  // A note of blanks is refused by the server, which says why; nothing changes.
  await pick.getByLabel('Score (0–100)').fill('100');
  await pick.getByLabel('Why (kept with the score)').fill('   ');
  await pick.getByRole('button', { name: 'Save override' }).click();
  await expect(pick.getByRole('alert')).toContainText('note: say why');
  await expect(pick.getByRole('button', { name: 'Save override' })).toBeFocused();
  await expect(page.getByTestId('detail-total')).toHaveText('25.00');

  // By keyboard: Enter in the score field submits.
  await pick.getByLabel('Why (kept with the score)').fill('Option A is defensible as worded.');
  await pick.getByLabel('Score (0–100)').press('Enter');
  await expect(pick.getByTestId('question-score')).toHaveText('100.00 / 100');
  await expect(pick.locator('.badge')).toHaveText('overridden');
  await expect(pick).toContainText('(graded 0.00)');
  await expect(pick.getByTestId('override-note')).toContainText('Option A is defensible as worded.');
  await expect(pick.getByTestId('override-note')).toContainText(recruiter.email);
  await expect(pick.getByRole('alert')).toHaveCount(0);
  // (50 + 100) / 2, all of the total.
  await expect(page.getByTestId('detail-total')).toHaveText('75.00');
  await expect(page.getByTestId('detail-accuracy')).toHaveText('75.00');

  // Stored: a reload and the results table show it.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('detail-total')).toHaveText('75.00');
  await expect(pick.getByTestId('override-note')).toContainText('Option A is defensible');
  await page.goto(`/recruiter/results?template_id=${templateId}`);
  await expect(page.getByTestId('results').locator('tbody tr').first().getByTestId('result-total')).toHaveText('75.00');

  // Taking it back restores the graded score.
  await page.getByRole('link', { name: weak }).click();
  await hydrated(page);
  await pick.getByRole('button', { name: 'Remove override' }).click();
  await expect(pick.getByTestId('question-score')).toHaveText('0.00 / 100');
  await expect(pick.getByTestId('override-note')).toHaveCount(0);
  await expect(page.getByTestId('detail-total')).toHaveText('25.00');
});
