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
   * Exchanges {@code redirectedUrl} if no other redirect came first, on the calling thread, and
   * returns the outcome; returns null if another redirect was already taken.
   */
  @Nullable CompletableFuture<TokenSet> offer(String redirectedUrl) {
    if (!claimed.compareAndSet(false, true)) {
      return null;
    }
    try {
      outcome.complete(complete.apply(redirectedUrl.trim()));
    } catch (RuntimeException e) {
      outcome.completeExceptionally(e);
    }
    return outcome;
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
