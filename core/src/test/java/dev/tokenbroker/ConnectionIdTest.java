package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ConnectionIdTest {

  @Test
  void behavesAsItsProviderColonAccountText() {
    // ConnectionId keeps no joined text; its hash, equality and order must still be the text's.
    String[] providers = {"a", "a-b", "ab", "cafe24", "kakao", "naver", "z9"};
    String[] accounts = {"x", "mall", "mall:1", "-", ":", "a:b:c", "Mall", "몰", "shop-123"};
    List<ConnectionId> ids = new ArrayList<>();
    for (String p : providers) {
      for (String a : accounts) {
        ids.add(ConnectionId.of(p, a));
      }
    }
    Random random = new Random(7);
    for (int i = 0; i < 2_000; i++) {
      ConnectionId x = ids.get(random.nextInt(ids.size()));
      ConnectionId y = ids.get(random.nextInt(ids.size()));
      assertThat(Integer.signum(x.compareTo(y)))
          .as("%s vs %s", x, y)
          .isEqualTo(Integer.signum(x.toString().compareTo(y.toString())));
      assertThat(x.equals(y)).isEqualTo(x.toString().equals(y.toString()));
    }
    for (ConnectionId id : ids) {
      assertThat(id.hashCode()).isEqualTo(id.toString().hashCode());
      ConnectionId again = ConnectionId.parse(id.toString());
      assertThat(again).isEqualTo(id).isNotSameAs(id).hasSameHashCodeAs(id);
      assertThat(again.compareTo(id)).isZero();
    }
  }

  @Test
  void rejectsMalformedParts() {
    assertThatThrownBy(() -> ConnectionId.parse("no-colon"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("provider:account");
    assertThatThrownBy(() -> ConnectionId.of("Cafe24", "mall"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[a-z]");
    assertThatThrownBy(() -> ConnectionId.of("cafe24", "my mall"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("white space");
  }
}
