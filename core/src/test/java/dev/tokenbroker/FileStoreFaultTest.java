package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.tokenbroker.store.FileTokenStore;
import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file store failing under a renewal: a directory that turns read-only, a full disk, and a
 * process that dies in the middle of a renewal. The rotated set stays served and unsaved with its
 * lease, no other instance renews from the older stored set (which holds a spent refresh token),
 * and nothing answers {@code invalid_grant}; a renewal cut short by a dead process is reported by
 * the next holder before its one try.
 */
class FileStoreFaultTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider platform = FakeProvider.refreshing(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final CountDownLatch saved = new CountDownLatch(1);
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final List<TokenStore> stores = new ArrayList<>();

  @TempDir Path root;

  @AfterEach
  void tearDown() throws IOException {
    if (Files.exists(root.resolve("tokens"))) {
      Files.setPosixFilePermissions(
          root.resolve("tokens"), PosixFilePermissions.fromString("rwx------"));
    }
    brokers.forEach(TokenBroker::close);
    stores.forEach(TokenStore::close);
  }

  private Path dir() {
    return root.resolve("tokens");
  }

  /** One process's file store on the shared directory. */
  private FileTokenStore fileStore() {
    FileTokenStore s = FileTokenStore.builder(dir()).clock(clock).build();
    stores.add(s);
    return s;
  }

  /** The instance whose saves fail: quick save retries, so the test waits little for them. */
  private TokenBroker savingInstance(TokenStore store) {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(id, platform)
            .listener(events::add)
            .listener(
                e -> {
                  if (e.type() == TokenEvent.Type.SAVE_RECOVERED) {
                    saved.countDown();
                  }
                })
            .executor(Runnable::run)
            .backoff(Duration.ofMillis(20), Duration.ofMillis(100))
            .withoutKeepAlive()
            .build();
    brokers.add(b);
    return b;
  }

  /** Another process's instance: it waits only briefly for a lease someone else holds. */
  private TokenBroker otherInstance(TokenStore store) {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(id, platform)
            .listener(events::add)
            .executor(Runnable::run)
            .lease(Duration.ofSeconds(90), Duration.ofMillis(300))
            .withoutKeepAlive()
            .build();
    brokers.add(b);
    return b;
  }

  private long count(TokenEvent.Type type) {
    return events.stream().filter(e -> e.type() == type).count();
  }

  /** A file store whose saves fail as on a full disk while {@link #full}. */
  static final class FullDisk extends ForwardingTokenStore {
    volatile boolean full;

    FullDisk(TokenStore delegate) {
      super(delegate);
    }

    private void check(ConnectionId id) {
      if (full) {
        throw new TokenStoreException(
            id, "cannot write the token set: No space left on device", null);
      }
    }

    @Override
    public TokenSet compareAndSet(
        ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
      check(id);
      return super.compareAndSet(id, expectedVersion, tokens, lease);
    }

    @Override
    public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
      check(id);
      return super.authorize(id, tokens, lease);
    }

    @Override
    public StoredConnection restore(ConnectionId id, TokenSet tokens) {
      check(id);
      return super.restore(id, tokens);
    }
  }

  /**
   * The shared scenario: the first instance's save of the rotated set fails ({@code failSaves}),
   * the set is served unsaved, the second instance (another process on the same directory) does not
   * renew from the stored set, and once saves work again the set is saved.
   */
  private void renewalWhoseSaveFails(TokenStore first, Runnable failSaves, Runnable recover)
      throws InterruptedException {
    TokenSet seeded = first.put(id, platform.seed());
    TokenBroker a = savingInstance(first);
    TokenBroker b = otherInstance(fileStore());
    assertThat(a.accessToken(id)).isEqualTo(seeded.accessToken());
    assertThat(b.accessToken(id)).isEqualTo(seeded.accessToken());
    clock.advance(Duration.ofHours(3));

    failSaves.run();
    assertThat(a.accessToken(id)).as("served although unsaved").isEqualTo("access-2");
    assertThat(a.health(id).unsaved()).isTrue();
    assertThat(a.accessToken(id)).isEqualTo("access-2");
    assertThat(count(TokenEvent.Type.SAVE_FAILED)).isGreaterThanOrEqualTo(1);
    assertThat(b.health(id).accessTokenExpiresAt()).isEqualTo(seeded.expiresAt());

    // The stored set's refresh token is spent; the other process must not renew from it.
    assertThatThrownBy(() -> b.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThatThrownBy(() -> b.refresh(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(platform.calls).as("only the first instance's renewal").hasValue(1);
    assertThat(platform.invalidGrants).hasValue(0);

    recover.run();
    assertThat(saved.await(20, TimeUnit.SECONDS)).as("saved once the disk takes it").isTrue();
    TokenSet stored = fileStore().load(id);
    assertThat(stored.refreshToken()).isEqualTo("refresh-2");
    assertThat(stored.version()).isEqualTo(seeded.version() + 1);
    assertThat(b.accessToken(id)).isEqualTo("access-2");
    assertThat(a.health(id).unsaved()).isFalse();
    clock.advance(Duration.ofHours(3));
    assertThat(b.accessToken(id)).isEqualTo("access-3");
    assertThat(platform.invalidGrants).hasValue(0);
    assertThat(count(TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isZero();
  }

  @Test
  void diskFullWhileARenewalSaves_theSetStaysServedUnsaved_andNoOtherInstanceRenewsFromTheOldOne()
      throws Exception {
    FullDisk disk = new FullDisk(fileStore());
    renewalWhoseSaveFails(disk, () -> disk.full = true, () -> disk.full = false);
  }

  @Test
  void directoryTurnsReadOnlyWhileARenewalSaves_theSetStaysServedUnsaved() throws Exception {
    FileTokenStore store = fileStore();
    Path dir = store.directory();
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-x------"));
    boolean chmodBites = !Files.isWritable(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    assumeFalse(!chmodBites, "chmod 500 does not stop this user (root) from writing");

    // The directory turns read-only just as the rotated set is to be saved.
    AtomicInteger saves = new AtomicInteger();
    TokenStore hooked =
        new ForwardingTokenStore(store) {
          @Override
          public TokenSet compareAndSet(
              ConnectionId cid, long expectedVersion, TokenSet tokens, Lease lease) {
            if (saves.incrementAndGet() == 1) {
              readOnly(dir, true);
            }
            return super.compareAndSet(cid, expectedVersion, tokens, lease);
          }
        };
    renewalWhoseSaveFails(hooked, () -> {}, () -> readOnly(dir, false));
  }

  private static void readOnly(Path dir, boolean readOnly) {
    try {
      Files.setPosixFilePermissions(
          dir, PosixFilePermissions.fromString(readOnly ? "r-x------" : "rwx------"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void processKilledMidRenewal_theNextHolderReportsItAndMakesOneTryAfterThePause()
      throws Exception {
    Map<String, String> settings = Map.of("type", "file", "path", dir().toString());
    ConnectionId child = StoreChild.ID;
    AtomicInteger requests = new AtomicInteger();
    ForwardingProvider provider =
        new ForwardingProvider(platform) {
          @Override
          public String name() {
            return child.provider();
          }

          @Override
          public TokenSet refresh(TokenSet current) {
            requests.incrementAndGet();
            return super.refresh(current);
          }
        };
    clock.set(Instant.now().minus(Duration.ofHours(3)));
    TokenSet seeded;
    try (TokenStore s = TestStores.open(settings, clock)) {
      seeded = s.put(child, platform.seed());
    }

    try (ChildJvm process = StoreChild.start(settings, "hold-lease-renewing", "child", "600000")) {
      process.await("RENEWING", 60);
      platform.refresh(seeded); // the dead process's request reached the platform
      process.kill();
    }
    clock.set(Instant.now()); // the seeded token has expired; the dead lease has not

    TokenStore store = TestStores.open(settings, clock);
    stores.add(store);
    TokenBroker next =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(child, provider)
            .listener(events::add)
            .executor(Runnable::run)
            .outcomeUnknownPause(Duration.ofSeconds(30))
            .withoutKeepAlive()
            .build();
    brokers.add(next);

    assertThatThrownBy(() -> next.accessToken(child))
        .isInstanceOf(TokenUnavailableException.class)
        .isNotInstanceOf(ReauthorizationRequiredException.class)
        .satisfies(
            e ->
                assertThat(((TokenUnavailableException) e).health().reasonCode())
                    .isEqualTo("rotation-outcome-unknown"));
    assertThat(events.get(0).type()).isEqualTo(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN);
    assertThat(requests).as("nothing sent while the dead request may be in process").hasValue(0);
    assertThat(next.health(child).nextAttemptAt())
        .isBetween(clock.instant(), clock.instant().plusSeconds(30));

    clock.advance(Duration.ofSeconds(31));
    assertThatThrownBy(() -> next.accessToken(child))
        .isInstanceOf(ReauthorizationRequiredException.class)
        .satisfies(
            e ->
                assertThat(((TokenUnavailableException) e).health().reasonCode())
                    .isEqualTo("rotation-outcome-unknown"));
    assertThat(requests).as("the one try").hasValue(1);
    assertThat(count(TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isEqualTo(1);
    assertThat(count(TokenEvent.Type.REFRESHED)).isZero();
  }
}
