package dev.tokenbroker.benchmarks;

import com.google.api.client.http.HttpTransport;
import com.google.api.client.http.LowLevelHttpRequest;
import com.google.auth.http.HttpTransportFactory;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.UserCredentials;
import java.io.IOException;
import java.net.URI;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/**
 * google-auth-library-java (1.30) {@link UserCredentials} as an application holding many users'
 * grants would create them: one OAuth client (id, secret and token server shared), and per user a
 * 64-character refresh token and a valid 64-character {@link AccessToken} set on the builder, so
 * the credentials start with a cached token.
 *
 * <p>The token server is on 127.0.0.1 and never contacted: the HTTP transport counts every request
 * and fails it, so {@link #tokenRequests()} proves a measurement served cached tokens only.
 */
final class GooglePeer {
  static final URI TOKEN_SERVER = URI.create("http://127.0.0.1:9/token");

  /** The URI an API call would pass to {@code getRequestMetadata}; user credentials ignore it. */
  static final URI API = URI.create("http://127.0.0.1:9/api");

  private final AtomicLong tokenRequests = new AtomicLong();
  private final HttpTransport transport =
      new HttpTransport() {
        @Override
        protected LowLevelHttpRequest buildRequest(String method, String url) throws IOException {
          tokenRequests.incrementAndGet();
          throw new IOException("benchmarks never contact a token server");
        }
      };
  private final HttpTransportFactory transportFactory = () -> transport;

  /** New credentials for one user, with a cached access token valid for hours. */
  UserCredentials credentials() {
    long expiresAt = System.currentTimeMillis() + LocalTokenProvider.LIFETIME.toMillis();
    return UserCredentials.newBuilder()
        .setClientId("bench-client")
        .setClientSecret("bench-secret")
        .setTokenServerUri(TOKEN_SERVER)
        .setHttpTransportFactory(transportFactory)
        .setRefreshToken(LocalTokenProvider.randomToken())
        .setAccessToken(new AccessToken(LocalTokenProvider.randomToken(), new Date(expiresAt)))
        .build();
  }

  /** How many requests reached the (failing) token-server transport. */
  long tokenRequests() {
    return tokenRequests.get();
  }
}
