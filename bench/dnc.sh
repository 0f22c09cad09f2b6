#!/usr/bin/env bash
# Do-not-call figures for the campaign manager's issue: `outpace dnc import` of a registry file
# (the US registry's bulk format: ten digits a line) into an empty store, in numbers/s, next to
# the machine's own rate for reading and sorting the same file (`sort`, the reference); then
# `outpace dnc check` wall time (the whole command: start, open the store beside any writer,
# look the number up in every list), median of RUNS.
# Usage: bench/dnc.sh [NUMBERS=10000000] [RUNS=5]
# Needs the Release build (cmake --build build). Not run by CI.
set -euo pipefail
numbers=${1:-10000000}
runs=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
name=dnc
source "$root/bench/lib.sh"

# Numbers spread over real area codes and exchanges, as a registry is.
python3 - "$numbers" > registry.txt <<'PY'
import random, sys
random.seed(7)
npas = [201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219,
        224, 225, 228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267,
        269, 270, 276, 281, 301, 302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315,
        316, 317, 318, 319, 320, 321, 323, 325, 330, 331, 334, 336, 337, 339, 347, 351, 352,
        360, 361, 386, 401, 402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417,
        419, 423, 424, 425, 430, 432, 434, 435, 440, 443, 469, 478, 479, 480, 484, 501, 502,
        503, 504, 505, 507, 508, 509, 510, 512, 513, 515, 516, 517, 518, 520, 530, 540, 541,
        551, 559, 561, 562, 563, 567, 570, 571, 573, 574, 580, 585, 586, 601, 602, 603, 605,
        606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630, 631,
        636, 641, 646, 650, 651, 660, 661, 662, 678, 682, 701, 702, 703, 704, 706, 707, 708,
        712, 713, 714, 715, 716, 717, 718, 719, 720, 724, 727, 731, 732, 734, 740, 754, 757,
        760, 763, 765, 770, 772, 773, 774, 775, 781, 785, 786, 801, 802, 803, 804, 805, 806,
        808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 848,
        850, 856, 857, 858, 859, 860, 862, 863, 864, 865, 870, 901, 903, 904, 906, 907, 908,
        909, 910, 912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 931, 936, 937, 940,
        941, 947, 949, 951, 952, 954, 956, 970, 971, 972, 973, 978, 979, 980, 985, 989]
n = int(sys.argv[1])
out = sys.stdout
r = random.random
for _ in range(n):
    out.write(f"{random.choice(npas)}{random.randint(200, 999)}{random.randint(0, 9999):04d}\n")
PY
echo "machine: $(nproc) cores; $numbers numbers in registry.txt ($(du -h registry.txt | cut -f1))"
t0=$(date +%s.%N); sort registry.txt > /dev/null; t1=$(date +%s.%N)
python3 -c "print(f'reference, sort of the same file: {$numbers / ($t1 - $t0):,.0f} lines/s')"
"$outpace" dnc import --data data registry.txt | tee import.txt
sample=$(sed -n 1p registry.txt)
times=()
for _ in $(seq "$runs"); do
  t0=$(date +%s.%N); "$outpace" dnc check --data data "$sample" > /dev/null; t1=$(date +%s.%N)
  times+=("$(python3 -c "print(($t1 - $t0) * 1000)")")
done
python3 - "${times[@]}" <<'PY'
import statistics, sys
t = sorted(map(float, sys.argv[1:]))
print(f"dnc check (whole command), median of {len(t)}: {statistics.median(t):.0f} ms "
      f"(min {t[0]:.0f}, max {t[-1]:.0f})")
PY
