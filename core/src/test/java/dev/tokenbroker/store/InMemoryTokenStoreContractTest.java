package dev.tokenbroker.store;

import java.time.Clock;

class InMemoryTokenStoreContractTest extends TokenStoreContractTest {
  @Override
  protected TokenStore createStore(Clock clock) {
    return new InMemoryTokenStore(clock);
  }
}
