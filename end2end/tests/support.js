// Helpers shared by the browser journeys (not a test file: Playwright runs only *.spec.js).
const { expect } = require('@playwright/test');

const PASSWORD = 'correct horse battery';
const unique = (prefix) => `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;

// Resolves once the WASM has taken over the page (the app marks <html data-hydrated>).
async function hydrated(page) {
  await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
}

async function signUp(page, role, email, password = PASSWORD) {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByRole('radio', { name: new RegExp(role, 'i') }).check();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

async function logIn(page, role, email, password = PASSWORD) {
  // After signing up, the app navigates to the login page, whose form has the same fields as the
  // signup form: type only once the login page is there, as a person would.
  await expect(page.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  await page.getByRole('radio', { name: new RegExp(role, 'i') }).check();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

// A new account of `role` ('candidate' | 'recruiter'), signed in on its dashboard.
async function newUser(page, role, prefix = role) {
  const email = unique(prefix);
  await signUp(page, role, email);
  await expect(page).toHaveURL(/\/login\?/);
  await logIn(page, role, email);
  await expect(page).toHaveURL(new RegExp(`/${role}$`));
  await hydrated(page);
  return email;
}

// A new account of `role` for the REST API: its email and bearer token.
async function apiUser(request, role, prefix = role) {
  const email = unique(prefix);
  const registered = await request.post(`/api/v1/auth/${role}/register`, {
    data: { email, password: PASSWORD },
  });
  expect(registered.status()).toBe(201);
  const login = await request.post(`/api/v1/auth/${role}/login`, {
    form: { username: email, password: PASSWORD },
  });
  expect(login.status()).toBe(200);
  const { access_token: token } = await login.json();
  return { email, token, headers: { Authorization: `Bearer ${token}` } };
}

// A published test with one question of each kind, created through the REST API by a recruiter of
// its own (the seed's payload without `status` publishes at once).
async function publishMixedTest(request, extra = {}) {
  const { token, email } = await apiUser(request, 'recruiter', 'author');
  const title = `Mixed ${Date.now()}`;
  const created = await request.post('/api/v1/recruiter/test-template', {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      title,
      time_limit_minutes: 20,
      default_prompt_budget: 3,
      weights: { accuracy: 0.6, speed_efficiency: 0.2, prompt_wellness: 0.2 },
      questions: [
        { id: 'double', type: 'coding', prompt: 'Write double(n).', context: 'function double(n) {\n}\n',
          function_name: 'double', test_cases: [{ input: [2], expected: 4 }, { input: [-3], expected: -6 }] },
        { id: 'idempotent', type: 'multiple_choice', prompt: 'Which HTTP methods are idempotent?',
          options: ['GET', 'POST', 'PUT', 'DELETE'], correct: [0, 2, 3] },
        { id: 'httponly', type: 'multiple_choice', prompt: 'What does HttpOnly do?',
          options: ['Sends the cookie only over HTTP', 'Hides the cookie from JavaScript'], correct: [1] },
        { id: 'loop', type: 'theory', prompt: 'Explain the event loop.',
          reference_answer: 'The call stack runs one task at a time; callbacks wait in a queue.',
          rubric_keywords: ['call stack', 'queue', 'callback'] },
      ],
      ...extra,
    },
  });
  expect(created.status()).toBe(201);
  return { title, token, email };
}

module.exports = { PASSWORD, unique, hydrated, signUp, logIn, newUser, apiUser, publishMixedTest };
