import { Text } from '@mantine/core';
import { AppLink, PageHeader } from '../components';
import { HOME_PATH } from '../nav';

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Text>
        Nothing lives at this address. <AppLink to={HOME_PATH}>Go to the trial balance</AppLink>.
      </Text>
    </>
  );
}
