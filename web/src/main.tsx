import '@mantine/core/styles.css';
import { MantineProvider, createTheme } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { AuthProvider } from './auth';
import { HOME_PATH, NAV } from './nav';
import { LoginPage } from './pages/Login';
import { NotFoundPage } from './pages/NotFound';
import { Shell } from './Shell';

const theme = createTheme({ primaryColor: 'indigo' });

function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route element={<Shell />}>
        <Route index element={<Navigate to={HOME_PATH} replace />} />
        {NAV.flatMap((item) => [
          <Route key={item.path} path={item.path} element={item.element} />,
          ...(item.routes ?? []).map((r) => <Route key={r.path} path={r.path} element={r.element} />),
        ])}
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');

createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="light">
      <BrowserRouter>
        <AuthProvider>
          <App />
        </AuthProvider>
      </BrowserRouter>
    </MantineProvider>
  </StrictMode>,
);
