const { test, expect } = require('@playwright/test');

const { PASSWORD, unique, hydrated, signUp, logIn } = require('./support');

for (const role of ['Candidate', 'Recruiter']) {
  test(`${role}: sign up, log in, see own email, survive a reload, log out`, async ({ page, context }) => {
    const email = unique(role.toLowerCase());
    await signUp(page, role, email);

    await expect(page).toHaveURL(/\/login\?.*registered=1/);
    await expect(page.getByRole('status')).toHaveText('Account created. Log in to continue.');
    await expect(page.getByRole('radio', { name: new RegExp(role, 'i') })).toBeChecked();

    await logIn(page, role, email);
    const home = role === 'Candidate' ? '/candidate' : '/recruiter';
    await expect(page).toHaveURL(new RegExp(`${home}$`));
    await expect(page.getByTestId('signed-in-as')).toContainText(email);
    await expect(page.getByTestId('dashboard-email')).toContainText(email);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: role === 'Candidate' ? 'My tests' : 'Dashboard' })).toBeVisible();

    // The token lives in an HttpOnly cookie, never in script-readable storage.
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'assess_session');
    expect(session).toBeTruthy();
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Lax');
    expect(await page.evaluate(() => document.cookie)).not.toContain('assess_session');
    expect(await page.evaluate(() => JSON.stringify(window.localStorage))).toBe('{}');

    await page.reload();
    await expect(page.getByTestId('signed-in-as')).toContainText(email);

    await hydrated(page);
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();
    await expect(page.getByTestId('signed-in-as')).toHaveCount(0);
    expect((await context.cookies()).find((c) => c.name === 'assess_session')).toBeFalsy();

    // Signed out, the private page sends us to log in again.
    await page.goto(home);
    await expect(page).toHaveURL(/\/login\?/);
  });
}

test('what a visitor types before the page is interactive is kept', async ({ page }) => {
  // A slow connection: the WebAssembly arrives only after the form has been filled in.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/pkg/*.wasm', async (route) => { await held; await route.continue(); });
  await page.goto('/signup');
  const email = unique('early');
  await page.getByRole('radio', { name: /recruiter/i }).check();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  expect(await page.locator('html[data-hydrated]').count()).toBe(0);

  release();
  await hydrated(page);
  await expect(page.getByLabel('Email')).toHaveValue(email);
  await expect(page.getByLabel('Password')).toHaveValue(PASSWORD);
  await expect(page.getByRole('radio', { name: /recruiter/i })).toBeChecked();
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/login\?role=recruiter&registered=1$/);
});

test('a candidate cannot reach recruiter pages', async ({ page }) => {
  const email = unique('nosy');
  await signUp(page, 'Candidate', email);
  await expect(page).toHaveURL(/registered=1/);
  await logIn(page, 'Candidate', email);
  await expect(page).toHaveURL(/\/candidate$/);

  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Dashboard' })).toHaveCount(0);

  const response = await page.goto('/recruiter');
  expect(response.status()).toBe(403);
  await expect(page.getByTestId('not-allowed')).toContainText('This page is for recruiter accounts');
  await expect(page.getByTestId('dashboard-email')).toHaveCount(0);
  await page.getByRole('link', { name: 'Go to your candidate dashboard' }).click();
  await expect(page).toHaveURL(/\/candidate$/);
});

test('a signed-out visitor of a private page logs in and is brought back', async ({ page }) => {
  const email = unique('back');
  await signUp(page, 'Recruiter', email);
  await expect(page).toHaveURL(/registered=1/);

  await page.goto('/recruiter');
  await expect(page).toHaveURL(/\/login\?role=recruiter&next=/);
  await hydrated(page);
  await expect(page.getByRole('radio', { name: /recruiter/i })).toBeChecked();
  // Keyboard only: fill the fields and submit with Enter.
  await page.getByLabel('Email').focus();
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/recruiter$/);
  await expect(page.getByTestId('dashboard-email')).toContainText(email);
});

test('forms validate inline and show the server\'s errors', async ({ page }) => {
  await page.goto('/signup');
  await hydrated(page);
  let requests = 0;
  page.on('request', (request) => {
    if (request.method() === 'POST') requests += 1;
  });
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('Not a valid email address')).toBeVisible();
  await expect(page.getByText('Must be at least 8 characters')).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  expect(requests).toBe(0);

  const email = unique('twice');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await expect(page.getByText('Not a valid email address')).toHaveCount(0);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/registered=1/);

  await signUp(page, 'Recruiter', email.toUpperCase());
  await expect(page.getByRole('alert')).toHaveText('An account with this email already exists.');

  await page.goto('/login');
  await hydrated(page);
  await logIn(page, 'Candidate', email, 'wrong password');
  await expect(page.getByRole('alert')).toHaveText('Incorrect email or password');
  // The button pressed keeps the keyboard focus through the request, to press again.
  await expect(page.getByRole('button', { name: 'Log in' })).toBeFocused();
  await logIn(page, 'Recruiter', email);
  await expect(page.getByRole('alert')).toContainText('This is a candidate account');
});
