package dev.tokenbroker.benchmarks;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.security.authentication.TestingAuthenticationToken;
import org.springframework.security.oauth2.client.AuthorizedClientServiceOAuth2AuthorizedClientManager;
import org.springframework.security.oauth2.client.InMemoryOAuth2AuthorizedClientService;
import org.springframework.security.oauth2.client.OAuth2AuthorizeRequest;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClient;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientProviderBuilder;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.InMemoryClientRegistrationRepository;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2RefreshToken;

/**
 * Spring Security's OAuth2 client (6.4) set up as an application with many authorized principals
 * would: one {@link ClientRegistration} (one OAuth client app), an {@link
 * InMemoryOAuth2AuthorizedClientService} holding one {@link OAuth2AuthorizedClient} per principal,
 * and an {@link AuthorizedClientServiceOAuth2AuthorizedClientManager} (the manager for code outside
 * a web request) with the provider {@code builder().refreshToken().clientCredentials().build()}.
 *
 * <p>The token endpoint is on 127.0.0.1 and never contacted: both grants' token-response clients
 * are replaced by one that counts and fails, so {@link #tokenRequests()} proves a measurement
 * served cached tokens only. This changes nothing on the path that finds a valid token, which never
 * calls them.
 */
final class SpringPeer {
  static final String REGISTRATION_ID = "bench";
  static final String TOKEN_URI = "http://127.0.0.1:9/oauth/token";

  private final AtomicLong tokenRequests = new AtomicLong();
  private final boolean refreshTokens;
  final ClientRegistration registration;
  final InMemoryOAuth2AuthorizedClientService service;
  final AuthorizedClientServiceOAuth2AuthorizedClientManager manager;

  /**
   * @param refreshTokens true: the authorization-code grant, clients hold an access and a refresh
   *     token; false: the client-credentials grant, access tokens only
   */
  SpringPeer(boolean refreshTokens) {
    this.refreshTokens = refreshTokens;
    ClientRegistration.Builder registration =
        ClientRegistration.withRegistrationId(REGISTRATION_ID)
            .clientId("bench-client")
            .clientSecret("bench-secret")
            .tokenUri(TOKEN_URI);
    if (refreshTokens) {
      registration
          .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
          .authorizationUri("http://127.0.0.1:9/oauth/authorize")
          .redirectUri("http://127.0.0.1/callback");
    } else {
      registration.authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS);
    }
    this.registration = registration.build();
    InMemoryClientRegistrationRepository repository =
        new InMemoryClientRegistrationRepository(this.registration);
    this.service = new InMemoryOAuth2AuthorizedClientService(repository);
    this.manager = new AuthorizedClientServiceOAuth2AuthorizedClientManager(repository, service);
    manager.setAuthorizedClientProvider(
        OAuth2AuthorizedClientProviderBuilder.builder()
            .refreshToken(
                r ->
                    r.accessTokenResponseClient(
                        request -> {
                          throw tokenRequest();
                        }))
            .clientCredentials(
                c ->
                    c.accessTokenResponseClient(
                        request -> {
                          throw tokenRequest();
                        }))
            .build());
  }

  private IllegalStateException tokenRequest() {
    tokenRequests.incrementAndGet();
    return new IllegalStateException("benchmarks never contact a token endpoint");
  }

  /**
   * Saves an authorized client for {@code principal} as after its first grant: a new 64-character
   * access token valid for {@link LocalTokenProvider#LIFETIME} and, with refresh tokens, a new
   * 64-character refresh token (issued at the same instant, as Spring's token-response parsing
   * does).
   */
  void save(String principal) {
    Instant now = Instant.now();
    OAuth2AccessToken access =
        new OAuth2AccessToken(
            OAuth2AccessToken.TokenType.BEARER,
            LocalTokenProvider.randomToken(),
            now,
            now.plus(LocalTokenProvider.LIFETIME));
    OAuth2AuthorizedClient client =
        refreshTokens
            ? new OAuth2AuthorizedClient(
                registration,
                principal,
                access,
                new OAuth2RefreshToken(LocalTokenProvider.randomToken(), now))
            : new OAuth2AuthorizedClient(registration, principal, access);
    // getName() of a principal that is a String is that String: the service's key shares it.
    service.saveAuthorizedClient(client, new TestingAuthenticationToken(principal, null));
  }

  /** What an application passes to {@link #accessToken} for {@code principal}. */
  static OAuth2AuthorizeRequest request(String principal) {
    return OAuth2AuthorizeRequest.withClientRegistrationId(REGISTRATION_ID)
        .principal(principal)
        .build();
  }

  /** One call: the authorized client for the request's principal, and its access token. */
  String accessToken(OAuth2AuthorizeRequest request) {
    OAuth2AuthorizedClient client = manager.authorize(request);
    if (client == null) {
      throw new IllegalStateException("no authorized client for " + request.getPrincipal());
    }
    return client.getAccessToken().getTokenValue();
  }

  /** How many times a token endpoint would have been called (a refresh or a new grant). */
  long tokenRequests() {
    return tokenRequests.get();
  }
}
