package dev.tokenbroker.examples;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import java.time.Clock;
import java.util.Map;

/**
 * The README's run-time onboarding: two instances of a service share one store; a mall that just
 * installed the app is onboarded on one, its redirect lands on the other, both serve it at once,
 * and an uninstall removes it everywhere. Runs against the embedded Cafe24 emulator.
 */
public final class Onboarding {
  private Onboarding() {}

  /** Builds one instance: the app's template instead of a line per mall. */
  static TokenBroker instance(TokenStore shared, Cafe24Emulator cafe24) {
    return TokenBroker.builder()
        .store(shared)
        .template(
            "my-cafe24-app",
            "cafe24:{mall}",
            Map.of(
                "client-id", "my-client-id",
                "client-secret", "my-client-secret",
                "redirect-uri", "http://localhost:8765/callback",
                "scopes", "mall.read_product",
                "base-url", cafe24.baseUrlTemplate()))
        .build();
  }

  /**
   * Onboards {@code mall}, started on {@code a}, completed on {@code b}; returns the access token
   * {@code a} then serves.
   */
  static String run(TokenBroker a, TokenBroker b, Cafe24Emulator cafe24, String mall) {
    // snippet:onboarding:start
    // An operator installed the app on a mall: onboard it, on any instance.
    AuthorizationRequest request = a.startAuthorization(ConnectionId.of("cafe24", mall));
    String redirectedUrl = cafe24.approve(request.url()); // the operator approves in a browser
    // The redirect lands on another instance; its callback endpoint calls:
    ConnectionId connected = b.handleCallback(redirectedUrl); // exactly once, on any instance
    String token = a.accessToken(connected); // every instance serves it now, no restart
    // snippet:onboarding:end
    return token;
  }

  public static void main(String[] args) throws Exception {
    try (Cafe24Emulator cafe24 = new Cafe24Emulator(Clock.systemUTC()).start()) {
      cafe24
          .registerApp("my-client-id", "my-client-secret", "http://localhost:8765/callback")
          .addMall("newmall");
      InMemoryTokenStore shared = new InMemoryTokenStore();
      try (TokenBroker a = instance(shared, cafe24);
          TokenBroker b = instance(shared, cafe24)) {
        String token = run(a, b, cafe24, "newmall");
        System.out.println("onboarded cafe24:newmall; token " + token.length() + " chars");
        b.removeEnded(ConnectionId.of("cafe24", "newmall"), "uninstalled");
        System.out.println("removed: served by " + (a.discover() == 1 ? "no instance" : "?"));
      }
    }
  }
}
