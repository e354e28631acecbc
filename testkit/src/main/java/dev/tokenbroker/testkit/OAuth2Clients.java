package dev.tokenbroker.testkit;

import static dev.tokenbroker.testkit.OAuth2Protocol.oauthError;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The {@link OAuth2Emulator}'s registered clients and client authentication (RFC 6749 §2.3): {@code
 * client_secret_basic}, {@code client_secret_post} when {@link #allowSecretPost} is set, and public
 * clients that only name themselves. A failed authentication counts one {@code invalid_client}
 * answer. Thread-safe.
 */
final class OAuth2Clients {
  private final Map<String, Client> clients = new ConcurrentHashMap<>();
  private final AtomicLong invalidClientAnswers;

  volatile boolean allowSecretPost;

  /**
   * @param invalidClientAnswers counts the {@code invalid_client} answers
   */
  OAuth2Clients(AtomicLong invalidClientAnswers) {
    this.invalidClientAnswers = invalidClientAnswers;
  }

  void register(String clientId, @Nullable String clientSecret, String... redirectUris) {
    clients.put(clientId, new Client(clientId, clientSecret, Set.of(redirectUris)));
  }

  @Nullable Client get(String clientId) {
    return clients.get(clientId);
  }

  Set<String> ids() {
    return clients.keySet();
  }

  Client require(String clientId) {
    Client c = clients.get(Objects.requireNonNull(clientId, "clientId"));
    if (c == null) {
      throw new IllegalArgumentException("client '" + clientId + "' is not registered");
    }
    return c;
  }

  /** The authenticated client, or a failure carrying the 401/400 answer. */
  Client authenticate(RecordedRequest request, Map<String, String> form) throws ClientAuthFailure {
    String header = request.getHeader("Authorization");
    String bodyId = form.get("client_id");
    String bodySecret = form.get("client_secret");
    if (header != null) {
      if (bodySecret != null) {
        // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
        throw new ClientAuthFailure(
            oauthError(
                400, "invalid_request", "client authenticated with both Basic and client_secret"));
      }
      String[] idSecret = parseBasic(header);
      if (idSecret == null) {
        throw invalidClient("malformed Basic credentials");
      }
      Client client = clients.get(idSecret[0]);
      if (client == null || !client.secretMatches(idSecret[1])) {
        throw invalidClient("client authentication failed");
      }
      if (bodyId != null && !bodyId.equals(client.id)) {
        throw invalidClient("client_id in the body differs from the authenticated client");
      }
      return client;
    }
    Client publicClient = bodyId == null ? null : clients.get(bodyId);
    if (publicClient != null && publicClient.isPublic() && bodySecret == null) {
      return publicClient; // RFC 6749 §2.1: a public client identifies itself, nothing more
    }
    if (allowSecretPost && bodyId != null && bodySecret != null) {
      Client client = clients.get(bodyId);
      if (client == null || !client.secretMatches(bodySecret)) {
        throw invalidClient("client authentication failed");
      }
      return client;
    }
    throw invalidClient("client authentication required (HTTP Basic)");
  }

  private ClientAuthFailure invalidClient(String description) {
    invalidClientAnswers.incrementAndGet();
    MockResponse r = oauthError(401, "invalid_client", description);
    // RFC 6749 §5.2: 401 with the scheme the client used (or should use).
    r.setHeader("WWW-Authenticate", "Basic realm=\"oauth2-emulator\"");
    return new ClientAuthFailure(r);
  }

  /** {@code [id, secret]} from {@code Basic base64(urlencode(id):urlencode(secret))}, or null. */
  private static String @Nullable [] parseBasic(String header) {
    if (!header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    try {
      String decoded =
          new String(
              Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      if (colon < 0) {
        return null;
      }
      return new String[] {
        URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8),
        URLDecoder.decode(decoded.substring(colon + 1), StandardCharsets.UTF_8)
      };
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static final class Client {
    final String id;
    private final byte @Nullable [] secret;
    final Set<String> redirectUris;

    Client(String id, @Nullable String secret, Set<String> redirectUris) {
      this.id = id;
      this.secret = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
      this.redirectUris = redirectUris;
    }

    boolean isPublic() {
      return secret == null;
    }

    boolean secretMatches(String presented) {
      return secret != null
          && MessageDigest.isEqual(secret, presented.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Carries a client-authentication failure's answer out of {@link #authenticate}. */
  static final class ClientAuthFailure extends Exception {
    private static final long serialVersionUID = 1L;
    final transient MockResponse response;

    ClientAuthFailure(MockResponse response) {
      super(null, null, false, false);
      this.response = response;
    }
  }
}
