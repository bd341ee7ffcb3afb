/* kern_ukr_edges: the row edges of one width of a path's wide tile
 * (kern_ukr_tiles.h): the micro-kernel on 1 to UKR_MR_WIDE - 1 rows of UKR_NW
 * vectors, named UKR_EDGE(1), UKR_EDGE(2), ..., and the table UKR_EDGES[rows]
 * (entry 0 unused). The includer defines UKR_NW, UKR_EDGE(r) and UKR_EDGES,
 * and UKR_MASKED for the masked forms; included once per width and form, so
 * it has no include guard. */
_Static_assert(UKR_MR_WIDE == 6 || UKR_MR_WIDE == 8, "the row edges cover wide tiles of 6 or 8 rows");
#define UKR_NAME UKR_EDGE(1)
#define UKR_MR 1
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME UKR_EDGE(2)
#define UKR_MR 2
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME UKR_EDGE(3)
#define UKR_MR 3
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME UKR_EDGE(4)
#define UKR_MR 4
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME UKR_EDGE(5)
#define UKR_MR 5
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#if UKR_MR_WIDE > 6
#define UKR_NAME UKR_EDGE(6)
#define UKR_MR 6
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#endif
#if UKR_MR_WIDE > 7
#define UKR_NAME UKR_EDGE(7)
#define UKR_MR 7
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#endif
#ifdef UKR_MASKED
static const rd_kern_ukr_mfn UKR_EDGES[RD_KERN_MR_MAX] = {
#else
static const rd_kern_ukr_fn UKR_EDGES[RD_KERN_MR_MAX] = {
#endif
    0, UKR_EDGE(1), UKR_EDGE(2), UKR_EDGE(3), UKR_EDGE(4), UKR_EDGE(5),
#if UKR_MR_WIDE > 6
    UKR_EDGE(6), UKR_EDGE(7)
#endif
};
