import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText, type Session } from '../api';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (s: Session) => void; notice: string | null }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  useEffect(() => emailRef.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.signIn({ email: email.trim(), password }));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That email and password do not match an account.' : errorText(err));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <form class="card signin-card" onSubmit={submit} aria-labelledby="signin-title" noValidate={false}>
        <p class="brand-mark" aria-hidden="true">
          Leadrelay
        </p>
        <h1 id="signin-title">Sign in to the console</h1>
        {notice ? (
          <p class="note note-info" role="status">
            {notice}
          </p>
        ) : null}
        <div class="field">
          <label for="signin-email">Email</label>
          <input id="signin-email" ref={emailRef} type="email" name="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="signin-password">Password</label>
          <input id="signin-password" type="password" name="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </div>
        {error ? (
          <p class="note note-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
