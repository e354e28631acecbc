package dev.tokenbroker.cli;

import dev.tokenbroker.TokenSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * The one redirect that completes an authorization, from whichever source delivers it first: the
 * loopback listener or a URL pasted on standard input. The first plausible redirect is exchanged at
 * once (a Cafe24 code dies within a minute) and decides the outcome; later ones are turned away, so
 * a reloaded browser tab can never spend a second code or replace the connection.
 */
final class RedirectCapture {
  private final Function<String, TokenSet> complete;
  private final AtomicBoolean claimed = new AtomicBoolean();
  private final CompletableFuture<TokenSet> outcome = new CompletableFuture<>();

  /** {@code complete} exchanges a redirected URL: {@code broker.completeAuthorization(id, url)}. */
  RedirectCapture(Function<String, TokenSet> complete) {
    this.complete = complete;
  }

  /**
   * Whether {@code text} looks like a redirect back from the platform — a URL or a query string
   * with {@code code=} or {@code error=} — rather than a typo, a favicon request or a stray line.
   */
  static boolean isRedirect(String text) {
    String t = text.trim();
    HttpUrl url = HttpUrl.parse(t);
    if (url == null) {
      String query = t.startsWith("?") ? t.substring(1) : t;
      url = query.contains("=") ? HttpUrl.parse("http://localhost/?" + query) : null;
    }
    return url != null
        && (url.queryParameter("code") != null || url.queryParameter("error") != null);
  }

  /**
   * Exchanges {@code redirectedUrl} on the calling thread if no other redirect came first, and
   * returns the result, not yet {@linkplain #publish published}; returns null if another redirect
   * was already taken.
   */
  @Nullable CompletableFuture<TokenSet> exchange(String redirectedUrl) {
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

  /** Exchanges and publishes at once; false if another redirect was already taken. */
  boolean offer(String redirectedUrl) {
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
