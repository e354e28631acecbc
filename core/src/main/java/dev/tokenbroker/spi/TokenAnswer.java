package dev.tokenbroker.spi;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a successful RFC 6749 §5.1 token answer into a {@link TokenSet}, with what a platform does
 * differently plugged in (how lifetimes and scopes are written, extras to record). The rules every
 * platform shares live here once:
 *
 * <ul>
 *   <li>tokens must be RFC 6749 VSCHARs, and the access token fit an {@code Authorization} header;
 *   <li>lifetimes are anchored at the moment the answer arrived, by the broker's clock;
 *   <li><b>an answer with a refresh token rotates</b>: the new one is adopted with the expiry the
 *       answer gives (or none); <b>an answer without one keeps the stored refresh token and its
 *       expiry</b> (Kakao until its last month, Google, servers that do not rotate);
 *   <li>a refresh answer with a good new refresh token but an unusable access token keeps the new
 *       refresh token beside the old access token (the old refresh token is dead at the platform),
 *       logs the problem, and lets the broker renew again when due;
 *   <li>what the answer leaves out (scope, extras) stays as it was; the token type defaults to
 *       {@code Bearer};
 *   <li>anything unusable is {@link TokenResponse#malformed} (OUTCOME_UNKNOWN after a rotating
 *       request), never a half-read set.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class TokenAnswer {
  private static final Logger LOG = LoggerFactory.getLogger(TokenAnswer.class);

  /** A platform's extras: called once per fully read answer. */
  @FunctionalInterface
  public interface Extras {
    /**
     * Records extras of {@code r} in {@code b}.
     *
     * @param r the answer
     * @param current the set being refreshed, or null for a first answer
     * @param b the set being built (already holding {@code current}'s extras)
     */
    void add(TokenResponse r, @Nullable TokenSet current, TokenSet.Builder b);
  }

  private final String platform;
  private final ConnectionId connection;
  private final Consumer<TokenResponse> check;
  private final Function<TokenResponse, Duration> accessLifetime;
  private final Function<TokenResponse, @Nullable Duration> refreshLifetime;
  private final Function<TokenResponse, @Nullable List<String>> scopes;
  private final List<String> requestedScopes;
  private final boolean bearerOnly;
  private final @Nullable String fixedTokenType;
  private final boolean firstAnswerNeedsRefreshToken;
  private final Extras extras;
  private final BiConsumer<TokenResponse, TokenSet.Builder> refreshExtras;

  private TokenAnswer(Builder b) {
    this.platform = b.platform;
    this.connection = b.connection;
    this.check = b.check;
    this.accessLifetime = b.accessLifetime;
    this.refreshLifetime = b.refreshLifetime;
    this.scopes = b.scopes;
    this.requestedScopes = List.copyOf(b.requestedScopes);
    this.bearerOnly = b.bearerOnly;
    this.fixedTokenType = b.fixedTokenType;
    this.firstAnswerNeedsRefreshToken = b.firstAnswerNeedsRefreshToken;
    this.extras = b.extras;
    this.refreshExtras = b.refreshExtras;
  }

  /**
   * A builder with the RFC 6749 defaults: {@code expires_in} up to {@code maxAccessLifetime}, an
   * optional {@code refresh_token_expires_in}, space-separated {@code scope}, any token type.
   *
   * @param platform the platform's name for a person ({@code Kakao}), used in the log
   * @param connection the connection, for the log
   * @return a builder
   */
  public static Builder builder(String platform, ConnectionId connection) {
    return new Builder(platform, connection);
  }

  /**
   * The token set in a successful answer.
   *
   * @param r a 2xx answer from the token endpoint
   * @param current the set being refreshed, or null for a code exchange or client credentials
   * @return the new set
   * @throws dev.tokenbroker.TokenEndpointException (malformed) if the answer cannot be used
   */
  public TokenSet read(TokenResponse r, @Nullable TokenSet current) {
    if (r.json() == null) {
      throw r.malformed("the answer is not a JSON object");
    }
    check.accept(r);
    String accessProblem = r.tokenProblem("access_token", true);
    if (accessProblem != null) {
      if (current != null
          && r.has("refresh_token")
          && r.tokenProblem("refresh_token", false) == null) {
        return keepNewRefreshToken(r, current, accessProblem);
      }
      throw r.malformed(accessProblem);
    }
    String accessToken = r.requireToken("access_token", true);
    Duration lifetime = accessLifetime.apply(r);
    // A platform whose token_type names the kind of token, not the scheme, has it fixed instead.
    String tokenType = fixedTokenType != null ? fixedTokenType : r.tokenType("token_type");
    if (bearerOnly && tokenType != null && !tokenType.equalsIgnoreCase("bearer")) {
      throw r.malformed("'token_type' is not bearer");
    }
    Instant at = r.receivedAt();
    TokenSet.Builder b =
        (current == null ? TokenSet.builder() : current.toBuilder())
            .accessToken(accessToken)
            .tokenType(tokenType == null ? "Bearer" : tokenType)
            .issuedAt(at)
            .expiresAt(at.plus(lifetime));
    if (r.has("refresh_token")) {
      // Rotation, detected from the answer: the new refresh token replaces the stored one. A bad
      // one after a rotating refresh means the stored one may be dead: malformed says so.
      adoptRefreshToken(r, b);
    } else if (current != null && current.refreshToken() != null) {
      // No refresh token in the answer: keep the stored one and its expiry, never null them.
      b.refreshToken(current.refreshToken()).refreshExpiresAt(current.refreshExpiresAt());
    } else if (current == null && firstAnswerNeedsRefreshToken) {
      throw r.malformed("no 'refresh_token' in the response");
    }
    List<String> granted = scopes.apply(r);
    if (granted != null) {
      b.scopes(granted);
    } else if (current == null) {
      b.scopes(requestedScopes); // RFC 6749 §5.1: omitted when it equals what was asked
    }
    extras.add(r, current, b);
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      // TokenSet's own checks; their messages name fields, never values.
      throw r.malformed(e.getMessage());
    }
  }

  private void adoptRefreshToken(TokenResponse r, TokenSet.Builder b) {
    String refreshToken = r.requireToken("refresh_token", false);
    Duration life = refreshLifetime.apply(r);
    b.refreshToken(refreshToken).refreshExpiresAt(life == null ? null : r.receivedAt().plus(life));
    refreshExtras.accept(r, b);
  }

  /**
   * A refresh answer with a good new refresh token and an unusable access token: the old refresh
   * token is dead at the platform, so throwing the answer away would strand the connection. The new
   * refresh token is kept beside the access token renewed from, whose expiry is unchanged, so the
   * broker renews again — with the new refresh token — when it is due.
   */
  private TokenSet keepNewRefreshToken(TokenResponse r, TokenSet current, String accessProblem) {
    TokenSet.Builder b = current.toBuilder();
    // Its expiry must be readable as usual: an answer broken beyond the access token is unusable
    // as a whole (malformed: the outcome is unknown), not half kept.
    adoptRefreshToken(r, b);
    LOG.warn(
        "connection {}: {} answered the refresh with an unusable access token ({}); kept the new"
            + " refresh token; the next renewal asks again",
        connection,
        platform,
        accessProblem);
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw r.malformed(accessProblem);
    }
  }

  /**
   * Reads {@code field} as a required lifetime in seconds within (0, {@code max}].
   *
   * @param field the member, e.g. {@code expires_in}
   * @param max the longest sane lifetime
   * @return the reader
   */
  public static Function<TokenResponse, Duration> seconds(String field, Duration max) {
    return r -> r.requireLifetime(field, max);
  }

  /**
   * Reads {@code field} as an optional lifetime in seconds within (0, {@code max}]; absent is
   * {@code fallback} (null: unknown).
   *
   * @param field the member, e.g. {@code refresh_token_expires_in}
   * @param max the longest sane lifetime
   * @param fallback what an absent member means, or null
   * @return the reader
   */
  public static Function<TokenResponse, @Nullable Duration> optionalSeconds(
      String field, Duration max, @Nullable Duration fallback) {
    return r -> r.has(field) ? r.requireLifetime(field, max) : fallback;
  }

  /**
   * Reads {@code field} as scopes in one text split by {@code separators} (a regular expression),
   * or as a JSON array of texts; absent is null (keep what was there).
   *
   * @param field the member, e.g. {@code scope}
   * @param separators a regular expression, e.g. {@code [\\s,]+}
   * @return the reader
   */
  public static Function<TokenResponse, @Nullable List<String>> scopeList(
      String field, String separators) {
    return r -> {
      JsonNode node = Objects.requireNonNull(r.json()).get(field);
      if (node == null || node.isNull()) {
        return null;
      }
      List<String> out = new ArrayList<>();
      if (node.isArray()) {
        for (JsonNode s : node) {
          if (s.isTextual() && !s.asText().isBlank()) {
            out.add(s.asText().trim());
          }
        }
      } else if (node.isTextual()) {
        for (String s : node.asText().trim().split(separators)) {
          if (!s.isEmpty()) {
            out.add(s);
          }
        }
      } else {
        throw r.malformed("'" + field + "' is neither a list nor text");
      }
      return out;
    };
  }

  /** Builds a {@link TokenAnswer}. Not thread-safe. */
  public static final class Builder {
    private final String platform;
    private final ConnectionId connection;
    private Consumer<TokenResponse> check = r -> {};
    private Function<TokenResponse, Duration> accessLifetime =
        seconds("expires_in", Settings.MAX_DURATION);
    private Function<TokenResponse, @Nullable Duration> refreshLifetime =
        optionalSeconds("refresh_token_expires_in", Settings.MAX_DURATION, null);
    private Function<TokenResponse, @Nullable List<String>> scopes = scopeList("scope", "\\s+");
    private List<String> requestedScopes = List.of();
    private boolean bearerOnly;
    private @Nullable String fixedTokenType;
    private boolean firstAnswerNeedsRefreshToken;
    private Extras extras = (r, current, b) -> {};
    private BiConsumer<TokenResponse, TokenSet.Builder> refreshExtras = (r, b) -> {};

    private Builder(String platform, ConnectionId connection) {
      this.platform = Objects.requireNonNull(platform, "platform");
      this.connection = Objects.requireNonNull(connection, "connection");
    }

    /**
     * A check run first on every answer (Cafe24: the token is for this mall); throws to refuse.
     *
     * @param check the check
     * @return this builder
     */
    public Builder check(Consumer<TokenResponse> check) {
      this.check = Objects.requireNonNull(check);
      return this;
    }

    /**
     * How the access token's lifetime is read (default {@code expires_in}, up to ten years).
     *
     * @param reader the reader, e.g. {@link #seconds}
     * @return this builder
     */
    public Builder accessLifetime(Function<TokenResponse, Duration> reader) {
      this.accessLifetime = Objects.requireNonNull(reader);
      return this;
    }

    /**
     * How a new refresh token's lifetime is read, null for unknown (default the optional {@code
     * refresh_token_expires_in}).
     *
     * @param reader the reader, e.g. {@link #optionalSeconds}
     * @return this builder
     */
    public Builder refreshLifetime(Function<TokenResponse, @Nullable Duration> reader) {
      this.refreshLifetime = Objects.requireNonNull(reader);
      return this;
    }

    /**
     * How granted scopes are read, null when the answer has none (default: {@code scope}, split on
     * white space).
     *
     * @param reader the reader, e.g. {@link #scopeList}
     * @return this builder
     */
    public Builder scopes(Function<TokenResponse, @Nullable List<String>> reader) {
      this.scopes = Objects.requireNonNull(reader);
      return this;
    }

    /**
     * The scopes asked for: recorded when a first answer names none (RFC 6749 §5.1).
     *
     * @param requested the scopes requested
     * @return this builder
     */
    public Builder requestedScopes(List<String> requested) {
      this.requestedScopes = List.copyOf(requested);
      return this;
    }

    /**
     * Refuse a {@code token_type} other than {@code bearer} (default: any valid auth scheme).
     *
     * @param bearerOnly whether only bearer tokens are accepted
     * @return this builder
     */
    public Builder bearerOnly(boolean bearerOnly) {
      this.bearerOnly = bearerOnly;
      return this;
    }

    /**
     * Sends every access token with {@code scheme} and does not read the answer's {@code
     * token_type}: for a platform whose {@code token_type} names the kind of token rather than an
     * HTTP auth scheme (eBay answers {@code "User Access Token"} and wants {@code Bearer}).
     *
     * @param scheme the auth scheme, or null to read {@code token_type} (the default)
     * @return this builder
     * @throws IllegalArgumentException if {@code scheme} is not an HTTP auth scheme
     */
    public Builder fixedTokenType(@Nullable String scheme) {
      if (scheme != null) {
        String problem = TokenSyntax.tokenTypeProblem(scheme);
        if (problem != null) {
          throw new IllegalArgumentException("token type " + problem);
        }
      }
      this.fixedTokenType = scheme;
      return this;
    }

    /**
     * Refuse a code-exchange answer without a refresh token (default: accepted; the connection then
     * needs a person again when the access token expires).
     *
     * @param required whether a first answer must carry a refresh token
     * @return this builder
     */
    public Builder firstAnswerNeedsRefreshToken(boolean required) {
      this.firstAnswerNeedsRefreshToken = required;
      return this;
    }

    /**
     * Records platform extras of a fully read answer.
     *
     * @param extras the hook
     * @return this builder
     */
    public Builder extras(Extras extras) {
      this.extras = Objects.requireNonNull(extras);
      return this;
    }

    /**
     * Records extras that belong to a new refresh token (Cafe24's raw expiry), whenever one is
     * adopted.
     *
     * @param refreshExtras the hook
     * @return this builder
     */
    public Builder refreshExtras(BiConsumer<TokenResponse, TokenSet.Builder> refreshExtras) {
      this.refreshExtras = Objects.requireNonNull(refreshExtras);
      return this;
    }

    /**
     * The reader.
     *
     * @return the reader
     */
    public TokenAnswer build() {
      return new TokenAnswer(this);
    }
  }
}
