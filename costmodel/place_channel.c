/* place_channel: how transfers between devices queue on their channels,
 * priced the same way by the placers (place_etf) and the simulator
 * (sim/placesim); declared in place.h.  Apart from place.c so that the
 * placers do not call back into the module that dispatches them. */
#include "place.h"

#include <strings.h>

static const char *const channel_names[] = {"pair", "device"};

const char *place_channels_name(place_channels c)
{
    return c == PLACE_CH_DEVICE ? channel_names[1] : channel_names[0];
}

int place_channels_parse(const char *text, place_channels *out, cs_err *err)
{
    for (int i = 0; i < 2; i++)
        if (strcasecmp(text, channel_names[i]) == 0) {
            *out = (place_channels)i;
            return 0;
        }
    return cs_fail(err, "unknown channel model '%s'; valid: pair (one channel per device "
                   "pair), device (one per device, its sends and receives)", text);
}

double place_channel_reserve(place_channels ch, int ndev, double *free_us, int a, int b,
                             double now_us, double dur_us)
{
    if (ch == PLACE_CH_PAIR) {
        double *f = &free_us[a * ndev + b], start = now_us > *f ? now_us : *f;
        return *f = start + dur_us;
    }
    double send = now_us > free_us[a] ? now_us : free_us[a];
    free_us[a] = send + dur_us;
    double recv = send > free_us[b] ? send : free_us[b];
    return free_us[b] = recv + dur_us;
}
