import { AppShell, Badge, Burger, Button, Center, Group, Loader, NavLink, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Suspense, useEffect, useState } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { auth, errorMessage } from './api';
import { useAuth } from './auth';
import { ErrorAlert } from './components';
import { NAV } from './nav';

/** Layout of every signed-in page: header with the user, navbar with the modules. */
export function Shell() {
  const { user, setUser } = useAuth();
  const [error, setError] = useState<string>();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const navigate = useNavigate();

  useEffect(() => {
    // Unknown (fresh page load) or signed out (e.g. Back after "Sign out"): ask the server.
    if (user) return;
    const controller = new AbortController();
    // A 401 here sends the browser to /login (see api.ts).
    auth.me(controller.signal).then(
      ({ user }) => setUser(user),
      (err: unknown) => {
        if (!controller.signal.aborted) setError(errorMessage(err));
      },
    );
    return () => controller.abort();
  }, [user, setUser]);

  useEffect(close, [location.pathname, close]);

  async function signOut() {
    try {
      await auth.logout();
    } finally {
      setUser(null);
      navigate('/login', { replace: true });
    }
  }

  if (!user) {
    return (
      <Center h="100dvh">{error ? <ErrorAlert title="Cannot load session" message={error} /> : <Loader />}</Center>
    );
  }

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={4}>Backoffice</Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" fw={500} data-testid="user-name">
              {user.name}
            </Text>
            <Badge variant="light" data-testid="user-role">
              {user.role}
            </Badge>
            <Button variant="default" size="xs" onClick={() => void signOut()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="xs" aria-label="Main navigation">
        {NAV.map((item) => (
          <NavLink
            key={item.path}
            component={Link}
            to={item.path}
            label={item.label}
            active={location.pathname === item.path || location.pathname.startsWith(`${item.path}/`)}
          />
        ))}
      </AppShell.Navbar>

      <AppShell.Main>
        <Suspense fallback={<Loader />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
