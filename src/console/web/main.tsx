/**
 * The Leadrelay operations console: sign-in, then the pages (hash routes) for the people who run
 * routing day to day. Served by the API at /console; talks to the public /v1 API with the session
 * cookie and the CSRF token.
 */
import './styles.css';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText, setUnauthorizedHandler, type Session } from './api';
import { clearAllDrafts, forgetTeam, SessionContext, setDraftScope, useRoute, type Route } from './state';
import { AvailabilityPage } from './pages/Availability';
import { BuyersPage } from './pages/Buyers';
import { ConnectionsPage } from './pages/Connections';
import { FairnessPage } from './pages/Fairness';
import { LeadPage } from './pages/Lead';
import { LeadsPage } from './pages/Leads';
import { PolicyPage } from './pages/Policy';
import { PreviewPage } from './pages/Preview';
import { SignIn } from './pages/SignIn';
import { SlaPage } from './pages/Sla';

interface NavItem {
  href: string;
  label: string;
  pages: Route['page'][];
}

const NAV: NavItem[] = [
  { href: '#/leads', label: 'Routing log', pages: ['leads', 'lead'] },
  { href: '#/sla', label: 'SLA queue', pages: ['sla'] },
  { href: '#/availability', label: 'Availability', pages: ['availability'] },
  { href: '#/fairness', label: 'Fairness', pages: ['fairness'] },
  { href: '#/policy', label: 'Policy', pages: ['policy'] },
  { href: '#/preview', label: 'Preview', pages: ['preview'] },
  { href: '#/connections', label: 'Connections', pages: ['connections'] },
  { href: '#/buyers', label: 'Buyers', pages: ['buyers'] },
];

const TITLES: Record<Route['page'], string> = {
  leads: 'Routing log',
  lead: 'Lead',
  policy: 'Policy',
  preview: 'Preview',
  fairness: 'Fairness',
  availability: 'Availability',
  sla: 'SLA queue',
  connections: 'Connections',
  buyers: 'Buyers',
};

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'leads':
      return <LeadsPage query={route.query} />;
    case 'lead':
      return <LeadPage leadId={route.leadId} />;
    case 'policy':
      return <PolicyPage />;
    case 'preview':
      return <PreviewPage query={route.query} />;
    case 'fairness':
      return <FairnessPage query={route.query} />;
    case 'availability':
      return <AvailabilityPage />;
    case 'sla':
      return <SlaPage />;
    case 'connections':
      return <ConnectionsPage />;
    case 'buyers':
      return <BuyersPage />;
  }
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => Promise<void> }) {
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const [hasBuyers, setHasBuyers] = useState<boolean | null>(null);
  const first = useRef(true);

  // The Buyers page only exists for tenants that distribute leads.
  useEffect(() => {
    api.buyers().then(
      (b) => setHasBuyers(b.buyers.length > 0),
      () => setHasBuyers(false),
    );
  }, [session.tenant.id]);

  // A new page: its title in the tab, focus on its heading (so screen readers announce it), menu closed.
  useEffect(() => {
    document.title = `${TITLES[route.page]} · Leadrelay`;
    setMenuOpen(false);
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = setTimeout(() => document.getElementById('page-title')?.focus({ preventScroll: false }), 0);
    return () => clearTimeout(timer);
  }, [route.page, route.page === 'lead' ? route.leadId : '']);

  const nav = NAV.filter((n) => n.href !== '#/buyers' || hasBuyers === true || route.page === 'buyers');
  return (
    <SessionContext.Provider value={{ session, signOut: onSignOut }}>
      <a href="#main" class="skip-link" onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        Skip to content
      </a>
      <header class="topbar">
        <div class="brand">
          <span class="brand-name">Leadrelay</span>
          <span class="tenant" title={`Workspace ${session.tenant.id}`}>
            {session.tenant.name}
          </span>
        </div>
        <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="primary-nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <div class="user">
          <span>
            {session.user.name} <span class="role">{session.user.role}</span>
          </span>
          <button type="button" onClick={() => void onSignOut()}>
            Sign out
          </button>
        </div>
      </header>
      <nav id="primary-nav" class={menuOpen ? 'open' : ''} aria-label="Console">
        <ul>
          {nav.map((n) => (
            <li key={n.href}>
              <a href={n.href} aria-current={n.pages.includes(route.page) ? 'page' : undefined}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {route.page === 'buyers' && hasBuyers === false ? <p class="empty">This workspace has no buyers.</p> : <Page route={route} />}
      </main>
    </SessionContext.Provider>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);
  const [bootError, setBootError] = useState<unknown>(null);

  const enter = (s: Session | null) => {
    setDraftScope(s);
    forgetTeam();
    setSession(s);
  };

  useEffect(() => {
    setUnauthorizedHandler(() => {
      enter(null);
      setNotice('Your session has ended. Sign in again to continue.');
    });
    api.session().then(
      (s) => {
        enter(s);
        setChecking(false);
      },
      (err: unknown) => {
        setBootError(err);
        setChecking(false);
      },
    );
    return () => setUnauthorizedHandler(null);
  }, []);

  const signOut = async () => {
    try {
      await api.signOut();
    } catch (err) {
      // Signed out here all the same: the cookie is the server's to clear, and it expires.
      if (!(err instanceof ApiError)) console.warn(errorText(err));
    }
    clearAllDrafts();
    enter(null);
    setNotice('You have signed out.');
  };

  if (checking) return <p class="boot">Loading the Leadrelay console…</p>;
  if (!session) {
    return (
      <>
        {bootError ? (
          <p class="note note-error" role="alert">
            {errorText(bootError)}
          </p>
        ) : null}
        <SignIn
          notice={notice}
          onSignedIn={(s) => {
            setNotice(null);
            setBootError(null);
            enter(s);
          }}
        />
      </>
    );
  }
  return <Shell session={session} onSignOut={signOut} />;
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
