// A Sofia memory home for one operation's parsing and strings, freed at scope end. Private to
// dialer/sip (the only place that includes Sofia headers).
#pragma once

#include <sofia-sip/su_alloc.h>

namespace outpace::sip {

struct Home {
    su_home_t home[1] = {SU_HOME_INIT(home)};
    Home() { su_home_init(home); }
    ~Home() { su_home_deinit(home); }
    Home(const Home&) = delete;
    Home& operator=(const Home&) = delete;
};

}  // namespace outpace::sip
