package dev.tokenbroker.benchmarks.scenarios;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.OAuth2Credentials;
import com.google.auth.oauth2.UserCredentials;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.testkit.OAuth2Emulator;
import dev.tokenbroker.testkit.OAuth2TestProvider;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.oauth2.client.AuthorizedClientServiceOAuth2AuthorizedClientManager;
import org.springframework.security.oauth2.client.InMemoryOAuth2AuthorizedClientService;
import org.springframework.security.oauth2.client.OAuth2AuthorizeRequest;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClient;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientProvider;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientProviderBuilder;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.InMemoryClientRegistrationRepository;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2RefreshToken;

/**
 * One client library holding one connection's tokens, asked for an access token by many threads.
 * {@link #accessToken()} returns a token or throws; a null or empty token also counts as a caller
 * error.
 */
interface Contender extends AutoCloseable {
  String CLIENT_ID = "bench-app";
  String CLIENT_SECRET = "bench-secret-value";
  String REDIRECT_URI = "http://127.0.0.1:9/callback";

  @Nullable String accessToken() throws Exception;

  @Override
  void close();

  /**
   * When a contender renews (for 1-second tokens): {@code renewBefore} ahead of expiry it starts a
   * renewal, and from {@code expirySkew} ahead of expiry it treats the token as expired.
   */
  final class Margins {
    final Duration renewBefore;
    final Duration expirySkew;

    Margins(Duration renewBefore, Duration expirySkew) {
      this.renewBefore = renewBefore;
      this.expirySkew = expirySkew;
    }
  }

  /**
   * Everything a contender is built from: the emulator it talks to, the clock it and the emulator
   * share, the token set it starts with, and its margins (null: the library's defaults).
   */
  final class Setup {
    final OAuth2Emulator emulator;
    final Clock clock;
    final TokenSet initial;
    final boolean rotating;
    final @Nullable Margins margins;
    final Path workDir;

    Setup(
        OAuth2Emulator emulator,
        Clock clock,
        TokenSet initial,
        boolean rotating,
        @Nullable Margins margins,
        Path workDir) {
      this.emulator = emulator;
      this.clock = clock;
      this.initial = initial;
      this.rotating = rotating;
      this.margins = margins;
      this.workDir = workDir;
    }

    String tokenUrl() {
      return emulator.baseUrl() + OAuth2Emulator.TOKEN_PATH;
    }

    String refreshToken() {
      return Objects.requireNonNull(initial.refreshToken(), "seeded without a refresh token");
    }
  }

  /** The four contenders of issue 8. */
  enum Kind {
    TOKENBROKER("tokenbroker"),
    SPRING("Spring Security 6.4.2"),
    GOOGLE("google-auth-library-java 1.30.1"),
    NAIVE("naive tokens.json");

    final String label;

    Kind(String label) {
      this.label = label;
    }

    Contender open(Setup s) throws IOException {
      switch (this) {
        case TOKENBROKER:
          return new Broker(s);
        case SPRING:
          return new Spring(s);
        case GOOGLE:
          return new Google(s);
        default:
          return new Naive(s);
      }
    }

    /**
     * How long before expiry this contender asks for a new token, given {@code m}: the naive client
     * refreshes only once its token has expired.
     */
    Duration renewMargin(Margins m) {
      return this == NAIVE ? Duration.ZERO : m.renewBefore;
    }

    /** How the margins are applied, for the tables. */
    String marginText(Margins m) {
      switch (this) {
        case TOKENBROKER:
          return "renewBefore "
              + m.renewBefore.toMillis()
              + " ms, expirySkew "
              + m.expirySkew.toMillis()
              + " ms";
        case SPRING:
          return "clockSkew " + m.renewBefore.toMillis() + " ms";
        case GOOGLE:
          return "refreshMargin "
              + m.renewBefore.toMillis()
              + " ms, expirationMargin "
              + m.expirySkew.toMillis()
              + " ms";
        default:
          return "none (refresh once expired)";
      }
    }
  }

  // ---- tokenbroker -------------------------------------------------------------------------

  /** {@link TokenBroker} with {@link OAuth2TestProvider} and an in-memory store. */
  final class Broker implements Contender {
    static final ConnectionId ID = ConnectionId.of(OAuth2TestProvider.DEFAULT_NAME, "bench");
    private final OkHttpClient http = new OkHttpClient();
    private final TokenBroker broker;

    Broker(Setup s) {
      InMemoryTokenStore store = new InMemoryTokenStore(s.clock);
      store.put(ID, s.initial);
      OAuth2TestProvider.Builder provider =
          OAuth2TestProvider.builder()
              .baseUrl(s.emulator.baseUrl())
              .client(CLIENT_ID, CLIENT_SECRET)
              .redirectUri(REDIRECT_URI)
              .rotatingRefreshTokens(s.rotating)
              .clock(s.clock)
              .httpClient(http);
      if (s.margins != null) {
        provider.renewalPolicy(RenewalPolicy.of(s.margins.renewBefore, s.margins.expirySkew));
      }
      broker =
          TokenBroker.builder()
              .withoutKeepAlive()
              .clock(s.clock)
              .store(store)
              .httpClient(http)
              .connection(ID, provider.build())
              .build();
    }

    @Override
    public String accessToken() {
      return broker.accessToken(ID);
    }

    @Override
    public void close() {
      broker.close();
      closeQuietly(http);
    }
  }

  // ---- Spring Security ---------------------------------------------------------------------

  /**
   * {@link AuthorizedClientServiceOAuth2AuthorizedClientManager} with the refresh-token provider,
   * an in-memory client service holding the initial tokens, and Spring's defaults otherwise — its
   * HTTP client (RestTemplate over HttpURLConnection) and its failure handler, which removes the
   * authorized client when the token endpoint answers {@code invalid_grant}.
   */
  final class Spring implements Contender {
    private static final String REGISTRATION = "emulator";
    private static final String PRINCIPAL = "bench-user";
    private final AuthorizedClientServiceOAuth2AuthorizedClientManager manager;
    private final OAuth2AuthorizeRequest request =
        OAuth2AuthorizeRequest.withClientRegistrationId(REGISTRATION).principal(PRINCIPAL).build();

    Spring(Setup s) {
      ClientRegistration registration =
          ClientRegistration.withRegistrationId(REGISTRATION)
              .clientId(CLIENT_ID)
              .clientSecret(CLIENT_SECRET)
              .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
              .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
              .redirectUri(REDIRECT_URI)
              .authorizationUri(s.emulator.baseUrl() + OAuth2Emulator.AUTHORIZE_PATH)
              .tokenUri(s.tokenUrl())
              .build();
      InMemoryClientRegistrationRepository registrations =
          new InMemoryClientRegistrationRepository(registration);
      InMemoryOAuth2AuthorizedClientService service =
          new InMemoryOAuth2AuthorizedClientService(registrations);
      TokenSet t = s.initial;
      service.saveAuthorizedClient(
          new OAuth2AuthorizedClient(
              registration,
              PRINCIPAL,
              new OAuth2AccessToken(
                  OAuth2AccessToken.TokenType.BEARER, t.accessToken(), t.issuedAt(), t.expiresAt()),
              new OAuth2RefreshToken(s.refreshToken(), t.issuedAt())),
          UsernamePasswordAuthenticationToken.authenticated(PRINCIPAL, null, List.of()));
      Margins m = s.margins;
      OAuth2AuthorizedClientProvider provider =
          OAuth2AuthorizedClientProviderBuilder.builder()
              .refreshToken(
                  r -> {
                    r.clock(s.clock);
                    if (m != null) {
                      r.clockSkew(m.renewBefore);
                    }
                  })
              .build();
      manager = new AuthorizedClientServiceOAuth2AuthorizedClientManager(registrations, service);
      manager.setAuthorizedClientProvider(provider);
    }

    @Override
    public @Nullable String accessToken() {
      OAuth2AuthorizedClient client = manager.authorize(request);
      return client == null ? null : client.getAccessToken().getTokenValue();
    }

    @Override
    public void close() {}
  }

  // ---- google-auth-library-java ------------------------------------------------------------

  /**
   * {@link UserCredentials} with the emulator as token server and the initial tokens, asked through
   * {@code getRequestMetadata()}. Its refresh token is a final field: a rotated refresh token in
   * the answer is dropped. Its clock is set to the shared clock through the package-private field
   * {@code OAuth2Credentials.clock} (the library's own tests set it the same way), so that the
   * amplification run can expire its token without waiting.
   */
  final class Google implements Contender {
    private final UserCredentials credentials;

    Google(Setup s) {
      TokenSet t = s.initial;
      UserCredentials.Builder b =
          UserCredentials.newBuilder()
              .setClientId(CLIENT_ID)
              .setClientSecret(CLIENT_SECRET)
              .setRefreshToken(s.refreshToken())
              .setAccessToken(new AccessToken(t.accessToken(), Date.from(t.expiresAt())))
              .setTokenServerUri(URI.create(s.tokenUrl()));
      if (s.margins != null) {
        b.setRefreshMargin(s.margins.renewBefore).setExpirationMargin(s.margins.expirySkew);
      }
      credentials = b.build();
      setClock(credentials, s.clock);
    }

    private static void setClock(OAuth2Credentials credentials, Clock clock) {
      com.google.api.client.util.Clock google = clock::millis;
      try {
        Field f = OAuth2Credentials.class.getDeclaredField("clock");
        f.setAccessible(true);
        f.set(credentials, google);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot set google-auth's clock", e);
      }
    }

    @Override
    public @Nullable String accessToken() throws IOException {
      Map<String, List<String>> metadata = credentials.getRequestMetadata();
      List<String> auth = metadata.get("Authorization");
      if (auth == null || auth.isEmpty()) {
        return null;
      }
      String header = auth.get(0);
      return header.startsWith("Bearer ") ? header.substring(7) : null;
    }

    @Override
    public void close() {}
  }

  // ---- naive tokens.json ---------------------------------------------------------------------

  /** {@link TokensJsonClient} over OkHttp, its file in the case's own directory. */
  final class Naive implements Contender {
    private final OkHttpClient http = new OkHttpClient();
    private final TokensJsonClient client;

    Naive(Setup s) throws IOException {
      Path file = s.workDir.resolve("tokens.json");
      TokensJsonClient.writeTokens(
          file, s.initial.accessToken(), s.refreshToken(), s.initial.expiresAt().toEpochMilli());
      client = new TokensJsonClient(file, s.tokenUrl(), CLIENT_ID, CLIENT_SECRET, http, s.clock);
    }

    @Override
    public String accessToken() throws IOException {
      return client.accessToken();
    }

    @Override
    public void close() {
      closeQuietly(http);
    }
  }

  private static void closeQuietly(OkHttpClient http) {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  /** A fresh directory for one case's files. */
  static Path newWorkDir() throws IOException {
    return Files.createTempDirectory("tokenbroker-scenario-");
  }
}
