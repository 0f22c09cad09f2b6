#include <cstring>
#include <string>

#include "campaigns/area_codes.h"

namespace outpace {
namespace {

// Area codes grouped by zone. Where an area code covers parts of two zones the entry lists both
// (split codes), and calling hours must hold in each: a contact in the western Florida panhandle
// and one in Tallahassee share 850. Lists needing more precision should carry a time-zone column.
struct ZoneGroup {
    const char* zones;
    const char* area_codes;
};

constexpr ZoneGroup kGroups[] = {
    {"America/New_York",
     // CT DE DC FL GA IN(most) KY(east) ME MD MA MI NH NJ NY NC OH PA RI SC TN(east) VT VA WV
     "203 475 860 959 302 202 771 239 305 321 324 352 386 407 561 645 656 689 727 754 772 786 "
     "813 863 904 941 954 229 404 470 478 678 706 762 770 912 943 317 463 765 260 574 502 606 "
     "859 207 227 240 301 410 443 667 339 351 413 508 617 774 781 857 978 231 248 269 313 517 "
     "586 616 679 734 810 947 989 603 201 551 609 640 732 848 856 862 908 973 212 315 332 347 "
     "363 516 518 585 607 631 646 680 716 718 838 845 914 917 929 934 252 336 472 704 743 828 "
     "910 919 980 984 216 220 234 326 330 380 419 436 440 513 567 614 740 937 215 223 267 272 "
     "412 445 484 570 582 610 717 724 814 835 878 401 803 839 843 854 864 423 865 802 276 434 "
     "540 571 703 757 804 826 948 304 681"},
    {"America/Toronto",  // Ontario and Quebec
     "226 249 289 343 365 382 416 437 519 548 613 647 683 705 742 753 905 263 354 367 418 438 "
     "450 468 514 579 581 819 873"},
    {"America/Chicago",
     // AL AR IL IN(northwest) IA LA MN MS MO NE(east) OK TN(west) TX(most) WI
     "205 251 256 334 659 938 327 479 501 870 217 224 309 312 331 447 464 618 630 708 730 773 "
     "779 815 847 861 872 219 319 515 563 641 712 225 318 337 457 504 985 218 320 507 612 651 "
     "763 924 952 228 601 662 769 235 314 417 557 573 636 660 816 402 531 405 539 572 580 918 "
     "615 629 731 901 210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 "
     "830 832 903 936 940 945 956 972 979 262 274 353 414 534 608 715 920 913"},
    {"America/Winnipeg", "204 431 584"},
    {"America/Regina", "306 474 639"},
    {"America/Denver", "303 719 720 970 983 406 505 575 385 435 801 307 915"},
    {"America/Phoenix", "480 520 602 623 928"},
    {"America/Edmonton", "368 403 587 780 825"},
    {"America/Los_Angeles",
     // CA NV OR(most) WA
     "209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 657 661 "
     "669 707 714 738 747 760 805 818 820 831 840 858 909 916 925 949 951 702 725 775 503 971 "
     "206 253 360 425 509 564"},
    {"America/Vancouver", "236 257 604 672 778"},
    {"America/Anchorage", "907"},
    {"Pacific/Honolulu", "808"},
    {"America/Puerto_Rico", "787 939"},
    {"America/St_Thomas", "340"},
    {"America/Halifax", "782 902"},
    {"America/Moncton", "428 506"},
    {"America/St_Johns", "709"},
    {"Pacific/Guam", "671"},
    {"Pacific/Saipan", "670"},
    {"Pacific/Pago_Pago", "684"},
    // Split area codes: every zone the area touches.
    {"America/Chicago|America/New_York", "850 448 270 364 812 930 931 906"},
    {"America/Chicago|America/Denver", "308 605 620 701 785"},
    {"America/Boise|America/Los_Angeles", "208 986 458 541"},
    {"America/Toronto|America/Winnipeg", "807"},
    {"America/Vancouver|America/Edmonton", "250"},
    {"America/Whitehorse|America/Edmonton|America/Winnipeg|America/Toronto", "867"},
};

struct Table {
    const char* zones[1000] = {};
    Table() {
        for (const auto& g : kGroups) {
            const char* p = g.area_codes;
            while (*p) {
                while (*p == ' ') ++p;
                if (!*p) break;
                int code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
                zones[code] = g.zones;
                p += 3;
            }
        }
    }
};

struct RegionZone {
    const char* region;
    const char* zone;
};

// Regions in one zone (mainland). Countries spanning zones (AU, BR, MX, RU, ...) are absent on
// purpose: their contacts need a time-zone column or the campaign default.
constexpr RegionZone kRegions[] = {
    {"GB", "Europe/London"},
    {"IE", "Europe/Dublin"},
    {"FR", "Europe/Paris"},
    {"DE", "Europe/Berlin"},
    {"IT", "Europe/Rome"},
    {"NL", "Europe/Amsterdam"},
    {"BE", "Europe/Brussels"},
    {"CH", "Europe/Zurich"},
    {"AT", "Europe/Vienna"},
    {"PL", "Europe/Warsaw"},
    {"SE", "Europe/Stockholm"},
    {"NO", "Europe/Oslo"},
    {"DK", "Europe/Copenhagen"},
    {"FI", "Europe/Helsinki"},
    {"GR", "Europe/Athens"},
    {"CZ", "Europe/Prague"},
    {"HU", "Europe/Budapest"},
    {"RO", "Europe/Bucharest"},
    {"IL", "Asia/Jerusalem"},
    {"IN", "Asia/Kolkata"},
    {"JP", "Asia/Tokyo"},
    {"KR", "Asia/Seoul"},
    {"SG", "Asia/Singapore"},
    {"HK", "Asia/Hong_Kong"},
    {"PH", "Asia/Manila"},
    {"ZA", "Africa/Johannesburg"},
    {"JM", "America/Jamaica"},
    {"BS", "America/Nassau"},
    {"BB", "America/Barbados"},
    {"TT", "America/Port_of_Spain"},
    {"DO", "America/Santo_Domingo"},
    {"PR", "America/Puerto_Rico"},
};

}  // namespace

const char* nanp_area_code_zones(int area_code) {
    static const Table table;
    if (area_code < 0 || area_code > 999) return nullptr;
    return table.zones[area_code];
}

const char* single_zone_region(const char* region) {
    for (const auto& r : kRegions)
        if (std::strcmp(r.region, region) == 0) return r.zone;
    return nullptr;
}

}  // namespace outpace
