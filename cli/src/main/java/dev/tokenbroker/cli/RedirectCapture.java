package dev.tokenbroker.cli;

import dev.tokenbroker.TokenSet;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * The one redirect that completes an authorization, from whichever source delivers it first: the
 * loopback listener or a URL pasted on standard input. The first plausible redirect is exchanged at
 * once (a Cafe24 code dies within a minute) and decides the outcome; later ones are turned away, so
 * a reloaded browser tab can never spend a second code or replace the connection.
 *
 * <p>Only a redirect carrying this authorization's {@code state} may claim that single slot: the
 * state is checked <em>before</em> anything is claimed, so a forged callback — any local page or
 * process can send {@code GET http://127.0.0.1:PORT/callback?error=access_denied} — is turned away
 * and the real browser redirect still completes the flow.
 */
final class RedirectCapture {
  private final Supplier<@Nullable String> expectedState;
  private final Function<String, TokenSet> complete;
  private final Consumer<String> notices;
  private final AtomicBoolean claimed = new AtomicBoolean();
  private final CompletableFuture<TokenSet> outcome = new CompletableFuture<>();

  /**
   * {@code complete} exchanges a redirected URL: {@code broker.completeAuthorization(id, url)};
   * only a redirect whose {@code state} is the one {@code expectedState} supplies (the {@link
   * dev.tokenbroker.AuthorizationRequest#state()} of the flow in progress; null before it started)
   * is handed to it. {@code notices} receives one line for every redirect turned away.
   */
  RedirectCapture(
      Supplier<@Nullable String> expectedState,
      Function<String, TokenSet> complete,
      Consumer<String> notices) {
    this.expectedState = expectedState;
    this.complete = complete;
    this.notices = notices;
  }

  /** Reports a redirect turned away for its state, from {@code source} (never its content). */
  void ignoredWrongState(String source) {
    notices.accept(
        "ignored a redirect "
            + source
            + " whose state is not this authorization's (an older tab, or a page forging the"
            + " callback); still waiting for the real one");
  }

  /**
   * Whether {@code text} (a redirect, see {@link #isRedirect}) carries this authorization's state.
   * Compared in constant time; a redirect without state never matches.
   */
  boolean hasExpectedState(String text) {
    HttpUrl url = parse(text);
    String state = url == null ? null : url.queryParameter("state");
    String expected = expectedState.get();
    return state != null
        && expected != null
        && MessageDigest.isEqual(
            state.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Whether {@code text} looks like a redirect back from the platform — a URL or a query string
   * with {@code code=} or {@code error=} — rather than a typo, a favicon request or a stray line.
   */
  static boolean isRedirect(String text) {
    HttpUrl url = parse(text);
    return url != null
        && (url.queryParameter("code") != null || url.queryParameter("error") != null);
  }

  private static @Nullable HttpUrl parse(String text) {
    String t = text.trim();
    HttpUrl url = HttpUrl.parse(t);
    if (url == null) {
      String query = t.startsWith("?") ? t.substring(1) : t;
      url = query.contains("=") ? HttpUrl.parse("http://localhost/?" + query) : null;
    }
    return url;
  }

  /**
   * Exchanges {@code redirectedUrl} on the calling thread if no other redirect came first, and
   * returns the result, not yet {@linkplain #publish published}; returns null if another redirect
   * was already taken. The caller has checked {@link #hasExpectedState}.
   */
  @Nullable CompletableFuture<TokenSet> exchange(String redirectedUrl) {
    if (!hasExpectedState(redirectedUrl)) {
      throw new IllegalStateException("a redirect with the wrong state must not claim the slot");
    }
    if (!claimed.compareAndSet(false, true)) {
      return null;
    }
    CompletableFuture<TokenSet> result = new CompletableFuture<>();
    try {
      result.complete(complete.apply(redirectedUrl.trim()));
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
    return result;
  }

  /**
   * Hands an exchange's result to whoever waits on {@link #outcome()}. The loopback listener does
   * so only after its page has been sent, so that the command cannot stop listening mid-answer.
   */
  void publish(CompletableFuture<TokenSet> result) {
    result.whenComplete(
        (tokens, failure) -> {
          if (failure != null) {
            outcome.completeExceptionally(failure);
          } else {
            outcome.complete(tokens);
          }
        });
  }

  /**
   * Exchanges and publishes at once; false if another redirect was already taken or this one
   * carries the wrong state (reported and ignored).
   */
  boolean offer(String redirectedUrl, String source) {
    if (!hasExpectedState(redirectedUrl)) {
      ignoredWrongState(source);
      return false;
    }
    CompletableFuture<TokenSet> result = exchange(redirectedUrl);
    if (result == null) {
      return false;
    }
    publish(result);
    return true;
  }

  /** Ends the wait with {@code failure}, unless a redirect was already taken. */
  void fail(RuntimeException failure) {
    if (claimed.compareAndSet(false, true)) {
      outcome.completeExceptionally(failure);
    }
  }

  CompletableFuture<TokenSet> outcome() {
    return outcome;
  }
}
