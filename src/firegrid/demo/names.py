"""Name pools for the demo city: people, phones, villages, roads and venues.

All draws come from the caller's seeded generator, so names are reproducible.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# Surnames common in Guangdong, most frequent first (weights fall off with rank).
SURNAMES = "陈李黄张梁刘林王叶何罗钟邓莫卢蔡袁谢杨吴周郑徐冯曾朱麦邝尹方彭余潘赖苏胡郭孙马高"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华文辉建国志海燕玲婷俊峰斌健红丹萍"
    "宇浩凯鹏嘉欣梓颖晓东振锦荣耀家豪子轩雅琪思睿佳怡晨阳"
)

# Village name syllables: (Chinese, pinyin).
VILLAGE_FIRST = (
    ("上", "Shang"),
    ("下", "Xia"),
    ("新", "Xin"),
    ("东", "Dong"),
    ("西", "Xi"),
    ("南", "Nan"),
    ("北", "Bei"),
    ("大", "Da"),
    ("小", "Xiao"),
    ("石", "Shi"),
    ("沙", "Sha"),
    ("水", "Shui"),
    ("白", "Bai"),
    ("黄", "Huang"),
    ("金", "Jin"),
    ("龙", "Long"),
    ("凤", "Feng"),
    ("鹤", "He"),
    ("莲", "Lian"),
    ("桥", "Qiao"),
    ("松", "Song"),
    ("榕", "Rong"),
    ("梅", "Mei"),
    ("竹", "Zhu"),
    ("牛", "Niu"),
    ("马", "Ma"),
    ("鳌", "Ao"),
    ("罗", "Luo"),
    ("陈", "Chen"),
    ("谢", "Xie"),
    ("甲", "Jia"),
    ("长", "Chang"),
    ("高", "Gao"),
    ("横", "Heng"),
    ("平", "Ping"),
)
VILLAGE_SECOND = (
    ("岗", "gang"),
    ("坑", "keng"),
    ("头", "tou"),
    ("围", "wei"),
    ("边", "bian"),
    ("洲", "zhou"),
    ("田", "tian"),
    ("朗", "lang"),
    ("塘", "tang"),
    ("岭", "ling"),
    ("湖", "hu"),
    ("涌", "chong"),
    ("屋", "wu"),
    ("美", "mei"),
    ("山", "shan"),
    ("坪", "ping"),
    ("园", "yuan"),
    ("厦", "sha"),
    ("沥", "li"),
    ("埔", "pu"),
    ("溪", "xi"),
    ("墩", "dun"),
    ("基", "ji"),
    ("布", "bu"),
    ("湾", "wan"),
    ("尾", "wei"),
    ("背", "bei"),
    ("寮", "liao"),
    ("坦", "tan"),
    ("埗", "bu"),
)

# Roads: names shared by several towns, and trunk roads that cross the city.
COMMON_ROADS = (
    "人民路",
    "建设路",
    "新华路",
    "振兴路",
    "工业路",
    "环城路",
    "解放路",
    "中山路",
    "文化路",
    "育才路",
    "富民路",
    "康乐路",
    "银河路",
    "金龙路",
    "长青路",
    "兴业路",
    "创业路",
    "科技路",
    "发展大道",
    "迎宾路",
    "体育路",
    "花园路",
    "东湖路",
    "西湖路",
    "滨河路",
    "沿江路",
    "红棉路",
    "紫荆路",
    "荔枝路",
    "榕树路",
    "商业街",
    "市场路",
    "学院路",
    "健康路",
    "同心路",
    "和平路",
    "友谊路",
    "朝阳路",
    "宏图路",
    "鸿福路",
)
TRUNK_ROADS = ("莞太路", "莞樟路", "莞长路", "莞深路", "东莞大道", "莞龙路", "莞惠路", "广深路")
TOWN_ROAD_SUFFIXES = ("大道", "路", "中路", "东路", "西路", "南路", "北路")

SHOP_WORDS = (
    "好又多",
    "万家",
    "百佳",
    "顺发",
    "兴旺",
    "鸿运",
    "金福",
    "大众",
    "阿强",
    "阿华",
    "永安",
    "新时代",
    "联华",
    "家乐",
    "美宜",
    "诚信",
    "利民",
    "旺角",
    "嘉华",
    "恒泰",
)
COMPANY_WORDS = (
    "华成",
    "裕丰",
    "宏达",
    "恒通",
    "力信",
    "嘉和",
    "鼎盛",
    "金源",
    "伟业",
    "信达",
    "精工",
    "联创",
    "科美",
    "三和",
    "长盛",
    "富华",
    "正大",
    "新宝",
    "东升",
    "汇丰",
)
INSTALL_SPOTS = ("一楼大厅", "二楼走廊", "楼梯间", "厨房", "仓储区", "生产区", "宿舍", "收银台")

PHONE_PREFIXES = ("134", "135", "136", "137", "138", "139", "150", "158", "159", "186", "188")


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` Chinese personal names: a surname and one or two given-name characters."""
    ranks = np.arange(1, len(SURNAMES) + 1, dtype=np.float64)
    p = 1.0 / ranks
    surname = rng.choice(len(SURNAMES), size=n, p=p / p.sum())
    first = rng.integers(0, len(GIVEN), size=n)
    second = rng.integers(0, len(GIVEN), size=n)
    two = rng.random(n) < 0.7
    return [
        SURNAMES[s] + GIVEN[a] + (GIVEN[b] if t else "")
        for s, a, b, t in zip(
            surname.tolist(), first.tolist(), second.tolist(), two.tolist(), strict=True
        )
    ]


def mobile_phones(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` mainland mobile numbers (13x/15x/18x and eight digits)."""
    prefix = rng.integers(0, len(PHONE_PREFIXES), size=n)
    rest = rng.integers(0, 100_000_000, size=n)
    return [
        f"{PHONE_PREFIXES[p]}{r:08d}" for p, r in zip(prefix.tolist(), rest.tolist(), strict=True)
    ]


def village_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """``n`` distinct two-syllable village stems as ``(Chinese, pinyin)``."""
    total = len(VILLAGE_FIRST) * len(VILLAGE_SECOND)
    picks = rng.choice(total, size=n, replace=n > total)
    out = []
    for k in picks.tolist():
        a, b = VILLAGE_FIRST[k // len(VILLAGE_SECOND)], VILLAGE_SECOND[k % len(VILLAGE_SECOND)]
        out.append((a[0] + b[0], a[1] + b[1]))
    return out


def town_roads(rng: np.random.Generator, short_name: str, n_common: int = 14) -> list[str]:
    """The road names of one town: its own avenues, trunk roads and common names."""
    own = [short_name + s for s in TOWN_ROAD_SUFFIXES]
    trunk = [TRUNK_ROADS[i] for i in rng.choice(len(TRUNK_ROADS), size=2, replace=False)]
    common = [COMMON_ROADS[i] for i in rng.choice(len(COMMON_ROADS), size=n_common, replace=False)]
    return own + trunk + common


def luhn_check_digits(bodies: npt.NDArray[np.int64], digits: int) -> npt.NDArray[np.int64]:
    """Luhn check digit of each ``digits``-long number in ``bodies`` (vectorised)."""
    total = np.zeros(len(bodies), dtype=np.int64)
    rest = bodies.copy()
    for position in range(digits):  # rightmost body digit is doubled
        d = rest % 10
        rest //= 10
        if position % 2 == 0:
            d = d * 2
            d = np.where(d > 9, d - 9, d)
        total += d
    return (10 - total % 10) % 10
