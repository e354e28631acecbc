package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.TokenProvider;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ConnectionTableTest {
  private static final TokenProvider PROVIDER = FakeProvider.refreshing(new MutableClock());

  private static Connection connection(String text) {
    return new Connection(ConnectionId.parse(text), PROVIDER, Instant.EPOCH);
  }

  @Test
  void findsEveryConnectionByTheSameOrAnEqualId_andNothingElse() {
    for (int n : new int[] {0, 1, 2, 3, 100, 20_000}) {
      Connection[] all = new Connection[n];
      for (int i = 0; i < n; i++) {
        all[i] = connection("fake:shop-" + i);
      }
      ConnectionTable table = new ConnectionTable(all);
      for (Connection c : all) {
        assertThat(table.get(c.id)).isSameAs(c);
        assertThat(table.get(ConnectionId.parse(c.id.toString()))).isSameAs(c);
      }
      assertThat(table.get(ConnectionId.parse("fake:shop-" + n))).isNull();
      assertThat(table.get(ConnectionId.parse("other:shop-0"))).isNull();
    }
  }

  @Test
  void idsWhoseHashesCollide_areAllFound() {
    // "Aa" and "BB" have the same hashCode, so these ids all collide.
    String[] parts = {"AaAa", "AaBB", "BBAa", "BBBB"};
    Connection[] all = new Connection[parts.length];
    for (int i = 0; i < parts.length; i++) {
      all[i] = connection("fake:" + parts[i]);
    }
    assertThat(all[0].id.hashCode()).isEqualTo(all[3].id.hashCode());
    ConnectionTable table = new ConnectionTable(all);
    for (Connection c : all) {
      assertThat(table.get(ConnectionId.parse(c.id.toString()))).isSameAs(c);
    }
    assertThat(table.get(ConnectionId.parse("fake:AaAaAa"))).isNull();
  }

  @Test
  void anIdGivenTwiceIsRejected() {
    assertThatThrownBy(
            () ->
                new ConnectionTable(new Connection[] {connection("fake:a"), connection("fake:a")}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fake:a");
  }
}
