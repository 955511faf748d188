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

module.exports = { PASSWORD, unique, hydrated, signUp, logIn, newUser, apiUser };
