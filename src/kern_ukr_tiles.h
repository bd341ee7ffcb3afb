/* kern_ukr_tiles: a path's micro-kernels from kern_ukr_body.h, the wide
 * tile (UKR_MR_WIDE rows, two vectors per row) as ukr, the narrow one
 * (UKR_MR_NARROW rows, one vector) as ukr_narrow, the wide tile's half
 * (UKR_MR_WIDE rows, one vector) as ukr_half, and the row edges of both
 * (1 to UKR_MR_WIDE - 1 rows) in ukr_edges[rows] and ukr_half_edges[rows]. A
 * path's file defines kern_ukr_body.h's vector macros and these two row
 * counts, then includes this. The row edges come from kern_ukr_edges.h.
 * A path that defines UKR_LOADM (kern_ukr_body.h) also gets the masked
 * form of each: ukr_m, ukr_narrow_m, ukr_half_m, ukr_medges and
 * ukr_half_medges. */
#define UKR_NAME ukr
#define UKR_MR UKR_MR_WIDE
#define UKR_NW 2
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#undef UKR_NW
#define UKR_NAME ukr_narrow
#define UKR_MR UKR_MR_NARROW
#define UKR_NW 1
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME ukr_half
#define UKR_MR UKR_MR_WIDE
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#undef UKR_NW
#define UKR_NW 2
#define UKR_EDGE(r) ukr_e##r
#define UKR_EDGES ukr_edges
#include "kern_ukr_edges.h"
#undef UKR_NW
#undef UKR_EDGE
#undef UKR_EDGES
#define UKR_NW 1
#define UKR_EDGE(r) ukr_half_e##r
#define UKR_EDGES ukr_half_edges
#include "kern_ukr_edges.h"
#undef UKR_NW
#undef UKR_EDGE
#undef UKR_EDGES
#ifdef UKR_LOADM
#define UKR_MASKED
#define UKR_NAME ukr_m
#define UKR_MR UKR_MR_WIDE
#define UKR_NW 2
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#undef UKR_NW
#define UKR_NAME ukr_narrow_m
#define UKR_MR UKR_MR_NARROW
#define UKR_NW 1
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME ukr_half_m
#define UKR_MR UKR_MR_WIDE
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#undef UKR_NW
#define UKR_NW 2
#define UKR_EDGE(r) ukr_me##r
#define UKR_EDGES ukr_medges
#include "kern_ukr_edges.h"
#undef UKR_NW
#undef UKR_EDGE
#undef UKR_EDGES
#define UKR_NW 1
#define UKR_EDGE(r) ukr_half_me##r
#define UKR_EDGES ukr_half_medges
#include "kern_ukr_edges.h"
#undef UKR_NW
#undef UKR_EDGE
#undef UKR_EDGES
#undef UKR_MASKED
#endif
