package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.store.FileTokenStore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One instance of a service in its own JVM, for {@link OnboardingProcessTest}: a broker with an app
 * template on a file store shared with other processes, driven by commands on standard input, one
 * answer line each on standard output.
 */
public final class OnboardingChild {
  private OnboardingChild() {}

  public static void main(String[] args) throws Exception {
    AtomicInteger exchanges = new AtomicInteger();
    try (FileTokenStore store = FileTokenStore.builder(Path.of(args[0])).build();
        TokenBroker broker =
            TokenBroker.builder()
                .instanceId(args[1])
                .store(store)
                .providerFactory(new Platform(exchanges))
                .template("shops", "fake:{shop}", Map.of())
                .withoutKeepAlive()
                .withoutDiscovery()
                .build()) {
      System.out.println("ready");
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        String[] cmd = line.split(" ", 2);
        try {
          switch (cmd[0]) {
            case "start":
              System.out.println(
                  "state " + broker.startAuthorization(ConnectionId.parse(cmd[1])).state());
              break;
            case "callback":
              System.out.println(
                  "connected "
                      + broker.handleCallback("https://app.example/cb?code=c&state=" + cmd[1]));
              break;
            case "token":
              System.out.println("token " + broker.accessToken(ConnectionId.parse(cmd[1])));
              break;
            case "discover":
              System.out.println("discovered " + broker.discover());
              break;
            case "remove":
              broker.remove(ConnectionId.parse(cmd[1]));
              System.out.println("removed");
              break;
            case "exchanges":
              System.out.println("exchanges " + exchanges.get());
              break;
            default:
              System.out.println("error unknown command");
          }
        } catch (RuntimeException e) {
          System.out.println(
              "error " + e.getClass().getSimpleName() + ": " + e.getMessage().replace('\n', ' '));
        }
        System.out.flush();
      }
    }
  }

  /** A platform with no shared state: codes and refresh tokens are always accepted. */
  static final class Platform implements TokenProviderFactory {
    private final AtomicInteger exchanges;

    Platform(AtomicInteger exchanges) {
      this.exchanges = exchanges;
    }

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public TokenProvider create(Settings settings, ProviderContext context) {
      return new TokenProvider() {
        @Override
        public String name() {
          return "fake";
        }

        @Override
        public GrantType grantType() {
          return GrantType.AUTHORIZATION_CODE;
        }

        @Override
        public RenewalPolicy renewalPolicy() {
          return RenewalPolicy.of(Duration.ofMinutes(5), Duration.ofSeconds(30));
        }

        @Override
        public URI authorizationUrl(String state, @Nullable String codeChallenge) {
          return URI.create("https://platform.example/authorize?state=" + state);
        }

        @Override
        public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
          exchanges.incrementAndGet();
          return issue();
        }

        @Override
        public TokenSet refresh(TokenSet current) {
          return issue();
        }

        @Override
        public void revoke(TokenSet current, Revocation revocation) {}
      };
    }

    private static TokenSet issue() {
      Instant now = Instant.now();
      return TokenSet.builder()
          .accessToken("a-" + UUID.randomUUID())
          .refreshToken("r-" + UUID.randomUUID())
          .issuedAt(now)
          .expiresAt(now.plus(Duration.ofHours(2)))
          .build();
    }
  }
}
