package com.example;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An application built from the README's dependency snippet gets a token from an emulator. */
class ConsumerTest {
  @Test
  void aBrokerFromThePublishedArtifacts_getsANaverToken() {
    FakeClock clock = FakeClock.create();
    String secret = "$2a$04$abcdefghijklmnopqrstuv";
    try (NaverEmulator naver = new NaverEmulator(clock)) {
      naver.registerApplication("consumer-app", secret).start();
      ConnectionId id = ConnectionId.parse("naver:self");
      try (TokenBroker broker =
          TokenBroker.builder()
              .clock(clock)
              .connection(
                  id,
                  Map.of(
                      "client-id", "consumer-app",
                      "client-secret", secret,
                      "base-url", naver.baseUrl()))
              .build()) {
        String token = broker.accessToken(id);
        assertTrue(naver.isValid(token), "the emulator issued this token");
      }
    }
  }
}
